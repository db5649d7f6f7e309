"""Alignment quality against gold: strict and lax F1 (vecalign's definitions) for mtkit's encoders and a
length-only Gale-Church baseline measured in the same run.

    python bench/align_quality.py [--encoders lexical,labse] [--gold-dir ../shared/align-gold]

Test sets: the public Text+Berg de-fr set (7 documents, 991/1,011 sentences; read from ../shared/align-gold,
never copied here) and the hand-made gold for the shipped seed pairs (bench/gold/mps). An encoder that cannot
be loaded here (LaBSE without its weights) is reported as such, never scored with something else.
Published strict F1 on Text+Berg: Bertalign + LaBSE 0.936-0.940, Vecalign 0.902, Bleualign 0.808,
Gale-Church 0.708.

--published DIR scores a published system's own Text+Berg output (files 001..007 or 001.align..007.align:
bertalign's are in github.com/bfsujason/bertalign at commit d1661939, data/text+berg/auto) with mtkit's scorer
and prints it beside the figures its README reports, to check the scorer against them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtkit.align import align  # noqa: E402
from mtkit.align.length import gale_church  # noqa: E402
from mtkit.align.scoring import read_beads, score_alignments  # noqa: E402
from mtkit.errors import BackendError  # noqa: E402


def test_sets(gold_dir: Path):
    berg = gold_dir / "text+berg"
    if berg.is_dir():
        docs = []
        for k in range(1, 8):
            name = f"{k:03d}"
            docs.append(((berg / "de" / name).read_text(encoding="utf-8").splitlines(),
                         (berg / "fr" / name).read_text(encoding="utf-8").splitlines(),
                         read_beads(berg / "gold" / name)))
        yield "Text+Berg de-fr", "de", "fr", docs
    for pair in ("zh-en", "zh-id"):
        folder = ROOT / "bench" / "gold" / "mps" / pair
        src_lang, tgt_lang = pair.split("-")
        yield (f"seeds {pair}", src_lang, tgt_lang,
               [((folder / "src.txt").read_text(encoding="utf-8").splitlines(),
                 (folder / "tgt.txt").read_text(encoding="utf-8").splitlines(), read_beads(folder / "gold.txt"))])


# Bertalign's README (commit d1661939) for its data/text+berg/auto output: strict P/R/F1, lax P/R/F1.
PUBLISHED = {"bertalign": (0.939, 0.941, 0.940, 0.994, 0.991, 0.992)}


def score_published(folder: Path, gold_dir: Path, system: str) -> None:
    names = [f"{k:03d}" for k in range(1, 8)]
    tests = [read_beads(folder / n if (folder / n).exists() else folder / f"{n}.align") for n in names]
    golds = [read_beads(gold_dir / "text+berg" / "gold" / n) for n in names]
    s = score_alignments(tests, golds)
    print(f"{system}'s published Text+Berg output scored by mtkit:")
    print(f"{'':<10} {'strict P':>8} {'strict R':>8} {'strict F1':>9} {'lax P':>6} {'lax R':>6} {'lax F1':>6}")
    for label, row in (("mtkit", (s.strict_p, s.strict_r, s.strict_f1, s.lax_p, s.lax_r, s.lax_f1)),
                       ("published", PUBLISHED[system])):
        print(f"{label:<10} {row[0]:>8.3f} {row[1]:>8.3f} {row[2]:>9.3f} {row[3]:>6.3f} {row[4]:>6.3f} {row[5]:>6.3f}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", default="lexical,labse")
    parser.add_argument("--gold-dir", default=str(ROOT.parent / "shared" / "align-gold"))
    parser.add_argument("--published", metavar="DIR", help="a published system's Text+Berg output to score")
    parser.add_argument("--published-system", default="bertalign", choices=sorted(PUBLISHED))
    args = parser.parse_args()
    if args.published:
        score_published(Path(args.published), Path(args.gold_dir), args.published_system)
    print(f"{'test set':<18} {'system':<22} {'strict P':>8} {'strict R':>8} {'strict F1':>9} {'lax F1':>7}")
    for name, src_lang, tgt_lang, docs in test_sets(Path(args.gold_dir)):
        golds = [g for _, _, g in docs]
        systems = {"gale-church (length)": [gale_church(s, t) for s, t, _ in docs]}
        for enc in args.encoders.split(","):
            try:
                systems[f"mtkit {enc}"] = [align(s, t, encoder=enc, src_lang=src_lang, tgt_lang=tgt_lang).beads
                                           for s, t, _ in docs]
            except BackendError as exc:
                print(f"{name:<18} {'mtkit ' + enc:<22} not run: {str(exc)[:90]}")
        baseline = None
        for system, tests in systems.items():
            score = score_alignments(tests, golds)
            baseline = baseline or score.strict_f1
            ratio = f"  ({score.strict_f1 / baseline:.2f}x length-only)" if baseline else ""
            print(f"{name:<18} {system:<22} {score.strict_p:>8.3f} {score.strict_r:>8.3f} {score.strict_f1:>9.3f} "
                  f"{score.lax_f1:>7.3f}{ratio if system != 'gale-church (length)' else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
