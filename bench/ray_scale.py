"""Corpus build on Ray: documents/s with 1 and 2 local workers, against the local executor, and what N workers
would give, from the measured per-stage costs.

    python bench/ray_scale.py [--stories 400] [--workers 1,2] [--encoder lexical] [--two-nodes]

Writes a synthetic corpus (`mtkit.testing.write_synthetic_corpus`: zh + en pages made from the seeds' aligned
pairs; pages mix in the seeds' Indonesian sentences, so a story holds two to four documents) and builds it in a
fresh process per run: the local executor (the anchor), then `--executor ray` with each worker count on a local
Ray started with as many CPUs as the machine has (Ray's start-up is timed apart), and with `--two-nodes` on a
two-node cluster the driver joins by address. Every run checks that its files equal the anchor's, byte for
byte.

The estimate: a warm local run (the seeds built first in the same process) gives the per-document cost of the
parallel part (ingest+segment and align, worker seconds) and of the serial part (what the driver does: collect
each story's results, filter+split+export, report). A cold local run minus the warm one is the start-up a worker
pays once (language identifier, CC-CEDICT, numba). With w workers and D documents:
T(w) = startup + D * (serial + parallel / w), Amdahl's law with a fixed start-up; as D grows, documents/s tend
to 1 / (serial + parallel / w), at most 1 / serial.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, sys, time
from mtkit.corpus.builder import BuildConfig, build_corpus
from mtkit.testing import CORPUS
corpus, out, encoder, kind, workers, address = sys.argv[1:7]
config = BuildConfig(encoder=encoder)
extra = {}
if kind == "ray":
    import os, ray
    from mtkit.scale.ray_executor import RayExecutor
    start = time.perf_counter()
    if address:  # join a running cluster, as `mtkit build --address` does
        executor = RayExecutor(address=address, num_workers=int(workers))
        executor.connect()
    else:
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        executor = RayExecutor(num_workers=int(workers))
    extra["ray_init"] = time.perf_counter() - start
else:
    executor = None
    if kind == "local-warm":  # everything a worker loads once, loaded before the clock starts
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            build_corpus(CORPUS, tmp, config)
start = time.perf_counter()
result = build_corpus(corpus, out, config, executor=executor)
wall = time.perf_counter() - start
documents = len(result.report["documents"])
print(json.dumps({"wall": wall, "timings": result.timings, "documents": documents, **extra}))
'''


def run(corpus: Path, out: Path, encoder: str, kind: str, workers: int = 0, address: str = "") -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(out), encoder, kind, str(workers), address],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"{kind} run failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_files(a: Path, b: Path) -> bool:
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    if names != sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()):
        return False
    return all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=400)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--encoder", default="lexical")
    parser.add_argument("--two-nodes", action="store_true",
                        help="also build on a two-node cluster (two raylets on this machine, half the CPUs each) "
                        "that the driver joins by address")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from mtkit.testing import write_synthetic_corpus

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = write_synthetic_corpus(tmp / "corpus", args.stories)
        local = run(corpus, tmp / "local", args.encoder, "local")
        warm = run(corpus, tmp / "warm", args.encoder, "local-warm")
        rays = {}
        for w in [int(x) for x in args.workers.split(",")]:
            rays[w] = run(corpus, tmp / f"ray{w}", args.encoder, "ray", w)
            rays[w]["same"] = same_files(tmp / f"ray{w}", tmp / "local")
        nodes = two_nodes(corpus, tmp / "nodes", args.encoder) if args.two_nodes else None
        if nodes:
            nodes["same"] = same_files(tmp / "nodes", tmp / "local")
    docs = local["documents"]
    print(f"{args.stories} stories, {docs} documents, encoder {args.encoder}, {os.cpu_count()} CPUs")
    print(f"{'executor':<16} {'wall s':>8} {'docs/s':>8} {'vs local':>9} {'worker s':>9} {'driver s':>9} "
          f"{'ray start s':>12}  same files")

    def row(name: str, r: dict, same: str = "anchor") -> None:
        t = r["timings"]
        worker = t.get("ingest+segment", 0) + t.get("align", 0)
        driver = r["wall"] - t.get("steps (wall)", 0) + t.get("collect", 0)
        start = f"{r['ray_init']:.1f}" if "ray_init" in r else "-"
        print(f"{name:<16} {r['wall']:>8.1f} {docs / r['wall']:>8.1f} {local['wall'] / r['wall']:>8.2f}x "
              f"{worker:>9.1f} {driver:>9.1f} {start:>12}  {same}")

    row("local", local)
    row("local (warm)", warm, "-")
    for w, r in rays.items():
        row(f"ray, {w} worker{'s' if w > 1 else ''}", r, "yes" if r["same"] else "NO")
    if nodes:
        row("ray, 2 nodes", nodes, "yes" if nodes["same"] else "NO")

    t = warm["timings"]
    parallel = (t["ingest+segment"] + t["align"]) / docs
    serial = (warm["wall"] - t["steps (wall)"] + t["collect"]) / docs
    startup = max(0.0, local["wall"] - warm["wall"])
    print(f"\nper document: parallel {1000 * parallel:.2f} ms (ingest+segment {1000 * t['ingest+segment'] / docs:.2f}, "
          f"align {1000 * t['align'] / docs:.2f}), serial {1000 * serial:.2f} ms (driver: collect, "
          f"filter+split+export, report); start-up per worker {startup:.1f} s")
    print(f"{'workers':>8} {'est. docs/s, this corpus':>25} {'est. docs/s, 1M docs':>21} {'measured':>9}")
    for w in (1, 2, 4, 8, 16, 32, 64):
        here = docs / (startup + docs * (serial + parallel / w))
        big = 1 / (serial + parallel / w)
        measured = f"{docs / rays[w]['wall']:.1f}" if w in rays else "-"
        print(f"{w:>8} {here:>25.1f} {big:>21.1f} {measured:>9}")
    print(f"{'limit':>8} {'':>25} {1 / serial:>21.1f}")
    return 0 if all(r["same"] for r in [*rays.values(), *([nodes] if nodes else [])]) else 1


def two_nodes(corpus: Path, out: Path, encoder: str) -> dict:
    """The build on two Ray nodes (ray.cluster_utils starts a head and a second raylet here, as `ray start
    --head` and `ray start --address` would on two machines), one worker each, from a driver that joins by
    address."""
    from ray.cluster_utils import Cluster

    per_node = max(1, (os.cpu_count() or 2) // 2)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": per_node})
    try:
        cluster.add_node(num_cpus=per_node)
        cluster.wait_for_nodes()
        return run(corpus, out, encoder, "ray", 2 * per_node, cluster.address)
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main())
