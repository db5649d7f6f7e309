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
                  "documents": len(result.report["documents"]),
                  "pairs": sum(n for s in result.counts.values() for n in s.values())}))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--encoder", default="lexical")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from mtkit.testing import seed_sentence_pairs, write_synthetic_corpus

    pairs = seed_sentence_pairs()
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            corpus, out = Path(tmp) / "corpus", Path(tmp) / "out"
            write_synthetic_corpus(corpus, n, pairs)
            done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(out), args.encoder],
                                  capture_output=True, text=True, check=True, cwd=ROOT)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append((n, result))
    anchor = rows[0][1]
    stages = list(anchor["timings"])
    # documents as the build counts them, not 2 x N pages: ingest splits a page's Indonesian part (the seeds'
    # zh-id pairs) off into a document of its own (30 stories: 77 documents, not 60)
    print(f"{'pairs':>7} {'documents':>9} {'docs/s total':>12} " + " ".join(f"{s + ' docs/s':>26}" for s in stages)
          + f" {'peak MiB':>9} {'s/doc vs first':>15} {'memory vs first':>16}")
    for n, r in rows:
        docs = r["documents"]
        per_stage = " ".join(f"{docs / max(r['timings'].get(s, 0), 1e-9):>26.1f}" for s in stages)
        print(f"{n:>7} {docs:>9} {docs / r['total']:>12.1f} {per_stage} {r['peak_mib']:>9.0f} "
              f"{(r['total'] / docs) / (anchor['total'] / anchor['documents']):>15.2f} "
              f"{r['peak_mib'] / anchor['peak_mib']:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
