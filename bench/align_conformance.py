"""Does mtkit's aligner give the same beads as bertalign 2.0.1 for the same embeddings?

    python bench/align_conformance.py [--venv /tmp/mtkit-bertalign-venv] [--pairs 24]

bertalign 2.0.1 needs Python >= 3.12, so it runs in its own virtual environment (made here on first use from
pyenv's 3.12, with bertalign, numpy and numba only; its imports of torch, sentence_transformers, lingua and
sentence_splitter are stubbed because the embeddings are supplied). Both sides get identical inputs: the same
overlap embeddings and lengths, and the same top-k table (numpy, stable on ties), so any differing bead is a
difference in the dynamic programme. Cases: synthetic document pairs of 5 to 1,000 sentences built with
merges, splits, insertions and deletions, plus the shipped seed pairs embedded by the lexical encoder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _bertalign import STUBS, ensure_venv, numpy_top_k  # noqa: E402

DRIVER = STUBS + r'''
out = {}
data = np.load(sys.argv[1])
for name in json.loads(open(sys.argv[2]).read()):
    sv, tv, sl, tl = (data[f"{name}/{k}"] for k in ("sv", "tv", "sl", "tl"))
    out[name] = [[list(map(int, s)), list(map(int, t))] for s, t in bertalign_two_pass(sv, tv, sl, tl)]
json.dump(out, open(sys.argv[3], "w"))
'''


def synthetic_pair(rng: np.random.Generator, n: int, dim: int = 64):
    """A source of n 'sentences' and a target made by merging, splitting, dropping and inserting."""
    concepts = rng.normal(size=(n, dim)).astype(np.float32)
    src_units = [[c] for c in range(n)]
    tgt_units: list[list[int]] = []
    i = 0
    while i < n:
        r = rng.random()
        if r < 0.08 and i + 1 < n:
            tgt_units.append([i, i + 1])  # merge
            i += 2
            continue
        if r < 0.12:
            i += 1  # deletion
            continue
        if r < 0.16:
            tgt_units.append([-1])  # insertion
        tgt_units.append([i])
        i += 1
    extra = rng.normal(size=(len(tgt_units) + 1, dim)).astype(np.float32)

    def vec(units, noise):
        v = np.stack([concepts[u].sum(0) if u[0] >= 0 else extra[k] for k, u in enumerate(units)])
        v = v + noise * rng.normal(size=v.shape).astype(np.float32)
        return v

    def overlaps(base):
        levels = []
        for level in range(1, 5):
            rows = []
            for k in range(len(base)):
                rows.append(base[max(0, k - level + 1):k + 1].sum(0) if k >= level - 1 else pad)
            levels.append(np.stack(rows))
        arr = np.stack(levels).astype(np.float32)
        return arr / np.linalg.norm(arr, axis=2, keepdims=True)

    pad = rng.normal(size=dim).astype(np.float32)
    src_base, tgt_base = vec(src_units, 0.3), vec(tgt_units, 0.3)
    src_len = rng.integers(20, 200, size=len(src_base))
    tgt_len = rng.integers(20, 200, size=len(tgt_base))

    def lens(base_len):
        return np.stack([[base_len[max(0, k - lv + 1):k + 1].sum() if k >= lv - 1 else 3
                          for k in range(len(base_len))] for lv in range(1, 5)]).astype(np.int64)

    return overlaps(src_base), overlaps(tgt_base), lens(src_len), lens(tgt_len)


def seed_pairs():
    from mtkit.align import embed_overlaps, get_encoder
    from mtkit.ingest import ingest_path
    from mtkit.segment import segment_document

    docs = {d.id: d for r in ingest_path(ROOT / "corpora" / "mps-fraud-2024") for d in r.documents}
    enc = get_encoder("lexical")
    for name, a, b in (("seed-zh-id", "chinadaily-zh-20240827.zh", "cctv-id-20240827.id"),
                       ("seed-zh-en", "mps-coop-2024.zh", "mps-coop-2024.en")):
        src = [s.text for s in segment_document(docs[a])]
        tgt = [s.text for s in segment_document(docs[b])]
        (sv, sl), = embed_overlaps(enc, [src], 4, langs=[docs[a].lang])
        (tv, tl), = embed_overlaps(enc, [tgt], 4, langs=[docs[b].lang])
        yield name, sv, tv, sl, tl


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default="/tmp/mtkit-bertalign-venv")
    parser.add_argument("--pairs", type=int, default=24, help="synthetic document pairs")
    args = parser.parse_args()

    from mtkit.align import dp

    rng = np.random.default_rng(2024)
    sizes = [5, 8, 12, 20, 30, 30, 45, 60, 80, 100, 150, 200, 300, 300, 400, 500, 600, 800, 1000, 1000]
    cases = {}
    for k in range(args.pairs):
        n = sizes[k % len(sizes)]
        cases[f"synthetic-{k:02d}-{n}"] = synthetic_pair(rng, n)
    for name, *arrays in seed_pairs():
        cases[name] = tuple(arrays)

    with tempfile.TemporaryDirectory() as tmp:
        npz, names, result = Path(tmp) / "cases.npz", Path(tmp) / "names.json", Path(tmp) / "out.json"
        np.savez(npz, **{f"{name}/{key}": arr for name, arrs in cases.items()
                         for key, arr in zip(("sv", "tv", "sl", "tl"), arrs)})
        names.write_text(json.dumps(list(cases)))
        driver = Path(tmp) / "driver.py"
        driver.write_text(DRIVER)
        python = ensure_venv(Path(args.venv))
        subprocess.run([str(python), str(driver), str(npz), str(names), str(result)], check=True)
        theirs = json.loads(result.read_text())

    dp.top_k = numpy_top_k  # the same top-k table on both sides
    total_diff = 0
    print(f"{'pair':<24} {'src':>5} {'tgt':>5} {'beads':>6} {'differ':>6}")
    for name, (sv, tv, sl, tl) in cases.items():
        ours = [[list(s), list(t)] for s, t, _ in dp.align_embeddings(sv, tv, sl, tl)]
        ref = theirs[name]
        differ = len({(tuple(s), tuple(t)) for s, t in ref} ^ {(tuple(s), tuple(t)) for s, t in ours})
        total_diff += differ
        print(f"{name:<24} {sv.shape[1]:>5} {tv.shape[1]:>5} {len(ref):>6} {differ:>6}")
    print(f"pairs: {len(cases)}  beads differing in total: {total_diff}")
    return 0 if total_diff == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
