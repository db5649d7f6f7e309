"""Corpus-build speed and memory on a synthetic corpus made from the seeds' sentences.

    python bench/build_speed.py [--sizes 1000,5000,10000] [--encoder lexical]

For each size N the script writes a corpus of N document pairs (zh + en pages) built from the aligned
sentence pairs of the shipped corpus, shuffled and re-paired (5 to 20 sentences a document, 1 to 4 sentences
a paragraph), with a manifest; then runs `mtkit build` on it in a fresh process and reports documents per
second per stage and the process's peak resident memory. Memory must stay flat as N grows (the build streams
story by story). Anchor: the smallest size, measured in the same run; the ratios are per-document time and
peak memory against it.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, resource, sys, time
from mtkit.corpus.builder import BuildConfig, build_corpus
start = time.perf_counter()
result = build_corpus(sys.argv[1], sys.argv[2], BuildConfig(encoder=sys.argv[3], formats=["parquet", "jsonl"]))
total = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"timings": result.timings, "total": total, "peak_mib": peak_kib / 1024,
                  "pairs": sum(n for s in result.counts.values() for n in s.values())}))
'''


def seed_pairs() -> list[tuple[str, str]]:
    """(zh, en) and (zh, id) sentence pairs of the shipped corpus, as the builder aligns them."""
    with tempfile.TemporaryDirectory() as tmp:
        from mtkit.corpus.builder import BuildConfig, build_corpus

        build_corpus(ROOT / "corpora" / "mps-fraud-2024", tmp, BuildConfig(encoder="lexical", formats=["jsonl"]))
        pairs = []
        for path in sorted(Path(tmp, "jsonl").rglob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                other = next(lang for lang in row["translation"] if lang != "zh")
                pairs.append((row["translation"]["zh"], row["translation"][other]))
        return pairs


def write_corpus(root: Path, n_pairs: int, pairs: list[tuple[str, str]], seed: int = 0) -> None:
    rng = random.Random(seed)
    raw = root / "raw"
    raw.mkdir(parents=True)
    docs, stories = [], []
    for k in range(n_pairs):
        chosen = [rng.choice(pairs) for _ in range(rng.randint(5, 20))]
        paragraphs, i = [], 0
        while i < len(chosen):
            size = rng.randint(1, 4)
            paragraphs.append(chosen[i:i + size])
            i += size
        zh = "\n\n".join("".join(p[0] for p in para) for para in paragraphs)
        en = "\n\n".join(" ".join(p[1] for p in para) for para in paragraphs)
        for lang, text in (("zh", zh), ("en", en)):
            (raw / f"{k:06d}.{lang}.txt").write_text(text + "\n", encoding="utf-8")
            docs.append(f"  - {{id: d{k}-{lang}, file: raw/{k:06d}.{lang}.txt, languages: [{lang}], "
                        f"scripts: [{'Hans' if lang == 'zh' else 'Latn'}]}}")
        stories.append(f"  - {{id: s{k}, documents: [d{k}-zh, d{k}-en]}}")
    (root / "manifest.yaml").write_text("name: synthetic\ndocuments:\n" + "\n".join(docs) + "\nstories:\n"
                                        + "\n".join(stories) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--encoder", default="lexical")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    pairs = seed_pairs()
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            corpus, out = Path(tmp) / "corpus", Path(tmp) / "out"
            write_corpus(corpus, n, pairs)
            done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(out), args.encoder],
                                  capture_output=True, text=True, check=True, cwd=ROOT)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append((n, result))
    anchor_n, anchor = rows[0]
    stages = list(anchor["timings"])
    print(f"{'pairs':>7} {'docs/s total':>12} " + " ".join(f"{s + ' docs/s':>26}" for s in stages)
          + f" {'peak MiB':>9} {'s/doc vs first':>15} {'memory vs first':>16}")
    for n, r in rows:
        docs = 2 * n
        per_stage = " ".join(f"{docs / max(r['timings'].get(s, 0), 1e-9):>26.1f}" for s in stages)
        print(f"{n:>7} {docs / r['total']:>12.1f} {per_stage} {r['peak_mib']:>9.0f} "
              f"{(r['total'] / docs) / (anchor['total'] / (2 * anchor_n)):>15.2f} {r['peak_mib'] / anchor['peak_mib']:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
