"""Alignment speed: the DP alone (embeddings given), mtkit vs bertalign 2.0.1 in the same run; and, on a GPU,
LaBSE-shaped embedding throughput.

    python bench/align_speed.py [--venv /tmp/mtkit-bertalign-venv] [--dim 768]

DP: document pairs per second at 30x30, 300x300 and 1000x1000 sentences, 768-dimensional embeddings (LaBSE's
size) of synthetic pairs, both passes including the top-k search. bertalign runs in its own Python 3.12
environment (see _bertalign.py). Prints pairs/s for both and the ratio mtkit/bertalign, and ms per source
sentence for mtkit (flat when cost grows linearly with length).

Embedding (CUDA only): a random-weight BERT with LaBSE's shapes as a sentence-transformers model, sentences/s
through mtkit's encoder (bf16, length-sorted batches) vs a plain transformers forward in fp32 batches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _bertalign import STUBS, ensure_venv  # noqa: E402
from align_conformance import synthetic_pair  # noqa: E402

SIZES = ((30, 300), (300, 30), (1000, 8))  # sentences per side, pairs timed

TIMER = STUBS + r'''
data = np.load(sys.argv[1])
result = {}
for size, count in json.loads(sys.argv[2]):
    pairs = [tuple(data[f"{size}/{i}/{k}"] for k in ("sv", "tv", "sl", "tl")) for i in range(count)]
    bertalign_two_pass(*pairs[0])  # compile
    start = time.perf_counter()
    for pair in pairs:
        bertalign_two_pass(*pair)
    result[str(size)] = count / (time.perf_counter() - start)
json.dump(result, open(sys.argv[3], "w"))
'''


def dp_benchmark(venv: str, dim: int) -> list[tuple[int, float, float]]:
    from mtkit.align.dp import align_embeddings

    rng = np.random.default_rng(7)
    data = {}
    for size, count in SIZES:
        for i in range(count):
            for key, arr in zip(("sv", "tv", "sl", "tl"), synthetic_pair(rng, size, dim)):
                data[f"{size}/{i}/{key}"] = arr
    with tempfile.TemporaryDirectory() as tmp:
        npz, out, timer = Path(tmp) / "pairs.npz", Path(tmp) / "out.json", Path(tmp) / "timer.py"
        np.savez(npz, **data)
        timer.write_text(TIMER)
        python = ensure_venv(Path(venv))
        subprocess.run([str(python), str(timer), str(npz), json.dumps(SIZES), str(out)], check=True)
        theirs = json.loads(out.read_text())
    rows = []
    for size, count in SIZES:
        pairs = [tuple(data[f"{size}/{i}/{k}"] for k in ("sv", "tv", "sl", "tl")) for i in range(count)]
        align_embeddings(*pairs[0])  # compile / load the cache
        start = time.perf_counter()
        for pair in pairs:
            align_embeddings(*pair)
        ours = count / (time.perf_counter() - start)
        rows.append((size, ours, theirs[str(size)]))
    return rows


def embedding_benchmark(n_sentences: int = 20_000) -> str:
    import torch

    if not torch.cuda.is_available():
        return "embedding: skipped (no CUDA device here; run on the GPU machine)"
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from mtkit.align.encoders import TransformerEncoder

    tmp = Path(tempfile.mkdtemp())
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(30_000)]
    (tmp / "vocab.txt").write_text("\n".join(vocab))
    tokenizer = BertTokenizerFast(vocab_file=str(tmp / "vocab.txt"))
    config = BertConfig(vocab_size=501_153, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=3072, max_position_embeddings=512)
    BertModel(config).save_pretrained(tmp / "bert")
    tokenizer.save_pretrained(tmp / "bert")
    word = models.Transformer(str(tmp / "bert"), max_seq_length=128)
    SentenceTransformer(modules=[word, models.Pooling(768, "cls"), models.Normalize()]).save(str(tmp / "st"))
    rng = np.random.default_rng(0)
    lengths = np.clip(rng.lognormal(3.2, 0.5, n_sentences).astype(int), 4, 120)
    sentences = [" ".join(f"w{j}" for j in rng.integers(0, 30_000, size=n)) for n in lengths]

    encoder = TransformerEncoder(str(tmp / "st"), device="cuda", batch_size=512)
    encoder.encode(sentences[:2048])
    torch.cuda.synchronize()
    start = time.perf_counter()
    encoder.encode(sentences)
    torch.cuda.synchronize()
    ours = n_sentences / (time.perf_counter() - start)

    model = BertModel.from_pretrained(tmp / "bert").cuda().eval()
    start = time.perf_counter()
    with torch.no_grad():
        for k in range(0, n_sentences, 256):
            batch = tokenizer(sentences[k:k + 256], padding=True, truncation=True, max_length=128, return_tensors="pt")
            model(**{key: v.cuda() for key, v in batch.items()})
    torch.cuda.synchronize()
    plain = n_sentences / (time.perf_counter() - start)
    return (f"embedding (LaBSE shapes, {n_sentences} sentences): mtkit {ours:,.0f} sentences/s, "
            f"plain transformers fp32 batch 256 {plain:,.0f} sentences/s, ratio {ours / plain:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default="/tmp/mtkit-bertalign-venv")
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--embedding-only", action="store_true",
                        help="skip the DP comparison (it needs bertalign's venv, which the GPU machine cannot build)")
    parser.add_argument("--sentences", type=int, default=20_000, help="sentences for the embedding benchmark")
    args = parser.parse_args()
    if args.embedding_only:
        print(embedding_benchmark(args.sentences))
        return 0
    rows = dp_benchmark(args.venv, args.dim)
    print(f"DP alone, embeddings given (dim {args.dim}), pairs/s")
    print(f"{'size':>10} {'mtkit':>10} {'bertalign':>10} {'ratio':>7} {'mtkit ms/sentence':>18}")
    for size, ours, theirs in rows:
        print(f"{size:>5}x{size:<4} {ours:>10.1f} {theirs:>10.1f} {ours / theirs:>6.2f}x {1000 / ours / size:>18.3f}")
    print(embedding_benchmark(args.sentences))
    return 0


if __name__ == "__main__":
    sys.exit(main())
