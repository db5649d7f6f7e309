"""Alignment speed: the DP alone (embeddings given), mtkit vs bertalign 2.0.1 in the same run; and, on a GPU,
LaBSE-shaped embedding throughput.

    python bench/align_speed.py [--venv /tmp/mtkit-bertalign-venv] [--dim 768]

DP: document pairs per second at 30x30, 300x300 and 1000x1000 sentences, 768-dimensional embeddings (LaBSE's
size) of synthetic pairs, both passes including the top-k search. bertalign runs in its own Python 3.12
environment (see _bertalign.py). Prints pairs/s for both and the ratio mtkit/bertalign, and ms per source
sentence for mtkit (flat when cost grows linearly with length).

Embedding (CUDA; --device cpu for a smoke check): a random-weight BERT with LaBSE's shapes as a
sentence-transformers model, sentences/s through mtkit's encoder (bf16, length-sorted token-budget batches),
against a plain transformers forward in fp32 batches of 256 and against pre-tokenized, length-sorted bf16 batches
of 1,024 already on the GPU (the device's own figure), all in the same run; prints mtkit's ratio to both.

    python bench/align_speed.py --embedding-only [--sentences 20000] [--device cpu] [--batch-tokens 16384,32768]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

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


def _labse_shaped_model(tmp: Path, device: str) -> None:
    """A random-weight BERT with LaBSE's shapes (vocabulary 501,153, 12 x 768, CLS pooling, normalised) saved as
    a sentence-transformers model in tmp/st (its BERT in tmp/bert), with a WordPiece vocabulary of w0..w29999."""
    import torch
    from sentence_transformers import SentenceTransformer
    try:  # sentence-transformers >= 6 moved the modules
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:
        from sentence_transformers import models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(30_000)]
    (tmp / "vocab.txt").write_text("\n".join(vocab))
    # positional: transformers 4 calls it vocab_file, 5 vocab (and ignores vocab_file=)
    BertTokenizerFast(str(tmp / "vocab.txt")).save_pretrained(tmp / "bert")
    config = BertConfig(vocab_size=501_153, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=3072, max_position_embeddings=512)
    with torch.device(device):  # the 385 M-parameter embedding initialises in a blink on a GPU
        BertModel(config).save_pretrained(tmp / "bert")
    word = models.Transformer(str(tmp / "bert"), max_seq_length=128)
    SentenceTransformer(modules=[word, models.Pooling(768, "cls"), models.Normalize()]).save(str(tmp / "st"))


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def embedding_benchmark(n_sentences: int = 20_000, device: str = "cuda",
                        batch_tokens: Sequence[int | None] = (None,)) -> str:
    """Sentences/s, LaBSE shapes, random weights, log-normal lengths (4 to 120 words of one token each):
    mtkit's TransformerEncoder.encode (texts in, normalised float32 numpy out; bf16 on CUDA), against two
    anchors timed in the same run: plain transformers in fp32, batches of 256 in input order tokenized as they
    come (what a user would write first), and the GPU's own figure: pre-tokenized, length-sorted batches of
    1,024 already on the device, bf16, SDPA, forward only (no tokenizing, no copies, no output)."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        return "embedding: skipped (no CUDA device here; run on the GPU machine, or --device cpu for a smoke check)"
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertModel

    from mtkit.align.encoders import TransformerEncoder

    rng = np.random.default_rng(0)
    lengths = np.clip(rng.lognormal(3.2, 0.5, n_sentences).astype(int), 4, 120)
    sentences = [" ".join(f"w{j}" for j in rng.integers(0, 30_000, size=n)) for n in lengths]
    fast_dtype = torch.bfloat16 if device == "cuda" else torch.float32
    lines = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        _labse_shaped_model(tmp, device)
        tokenizer = AutoTokenizer.from_pretrained(tmp / "bert")

        def timed_encode(encoder) -> tuple[float, np.ndarray]:
            """(sentences/s, vectors) of ``encoder`` over the sentences, after a warm-up (kernels, cuBLAS handles,
            the caching allocators)."""
            encoder.encode(sentences[:2048])
            _sync(device)
            start = time.perf_counter()
            vectors = encoder.encode(sentences)
            return n_sentences / (time.perf_counter() - start), vectors

        ours = {}
        for budget in batch_tokens:
            encoder = TransformerEncoder(str(tmp / "st"), device=device, batch_tokens=budget)
            ours[encoder.batch_tokens], vectors = timed_encode(encoder)
        unpacked = None
        if device == "cpu":  # the anchor of the encoder's oneDNN linear layers on the CPU: F.linear (MKL's sgemm)
            plain_linears = TransformerEncoder(str(tmp / "st"), device=device, batch_tokens=batch_tokens[0])
            plain_linears._linears.enabled = False
            unpacked, _ = timed_encode(plain_linears)
            del plain_linears
        # the fast path must give sentence-transformers' own vectors (bf16 on CUDA: compare by cosine)
        check = sentences[:500]
        reference = SentenceTransformer(str(tmp / "st"), device=device).to(fast_dtype).encode(
            check, batch_size=128, normalize_embeddings=True, convert_to_numpy=True)
        min_cosine = float((vectors[:500] * reference.astype(np.float32)).sum(axis=1).min())
        del encoder, reference

        # anchor 1: plain transformers, fp32, batch 256 in input order
        model = BertModel.from_pretrained(tmp / "bert", dtype=torch.float32).to(device).eval()
        with torch.inference_mode():
            batch = tokenizer(sentences[:256], padding=True, truncation=True, max_length=128, return_tensors="pt")
            model(**{key: v.to(device) for key, v in batch.items()})
            _sync(device)
            start = time.perf_counter()
            for k in range(0, n_sentences, 256):
                batch = tokenizer(sentences[k:k + 256], padding=True, truncation=True, max_length=128,
                                  return_tensors="pt")
                model(**{key: v.to(device) for key, v in batch.items()}).last_hidden_state[:, 0].cpu()
            _sync(device)
        plain = n_sentences / (time.perf_counter() - start)
        del model

        # anchor 2: pre-tokenized, length-sorted batches of 1,024 already on the device, bf16, SDPA
        model = BertModel.from_pretrained(tmp / "bert", dtype=fast_dtype, attn_implementation="sdpa").to(device).eval()
        ids = tokenizer(sentences, truncation=True, max_length=128)["input_ids"]
        order = sorted(range(n_sentences), key=lambda i: -len(ids[i]))
        batches = []
        for k in range(0, n_sentences, 1024):
            rows = [ids[i] for i in order[k:k + 1024]]
            width = len(rows[0])
            input_ids = torch.tensor([r + [0] * (width - len(r)) for r in rows], device=device)
            mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
            batches.append((input_ids, mask))
        with torch.inference_mode():
            # warm-up: one whole pass, so that per-shape set-up (cuDNN's attention plans, which PyTorch picks for
            # masked SDPA on Hopper) is done before the clock starts: this anchor is the device's steady state
            for input_ids, mask in batches:
                model(input_ids=input_ids, attention_mask=mask)
            _sync(device)
            start = time.perf_counter()
            for input_ids, mask in batches:
                model(input_ids=input_ids, attention_mask=mask).last_hidden_state[:, 0]
            _sync(device)
        on_device = n_sentences / (time.perf_counter() - start)
        del model, batches

    dtype = "bf16" if device == "cuda" else "fp32"
    lines.append(f"embedding, LaBSE shapes, random weights, {n_sentences:,} sentences (log-normal lengths), {device}:")
    for budget, rate in ours.items():
        lines.append(f"  mtkit TransformerEncoder.encode ({dtype}, {budget:,} padded tokens a batch): "
                     f"{rate:,.0f} sentences/s = {rate / plain:.2f}x plain, {rate / on_device:.2f}x on-device")
    if unpacked:
        best = max(ours.values())
        lines.append(f"  mtkit with F.linear (MKL) instead of oneDNN packed layers: {unpacked:,.0f} sentences/s "
                     f"(mtkit {best / unpacked:.2f}x this)")
    lines.append(f"  plain transformers, fp32, batch 256 in input order, tokenized per batch: {plain:,.0f} sentences/s")
    lines.append(f"  pre-tokenized, length-sorted, on-{device}, {dtype} SDPA, batch 1024, forward only: "
                 f"{on_device:,.0f} sentences/s")
    lines.append(f"  check: min cosine, mtkit vs SentenceTransformer.encode ({dtype}), {len(check)} sentences: "
                 f"{min_cosine:.5f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default="/tmp/mtkit-bertalign-venv")
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--embedding-only", action="store_true",
                        help="skip the DP comparison (it needs bertalign's venv, which the GPU machine cannot build)")
    parser.add_argument("--sentences", type=int, default=20_000, help="sentences for the embedding benchmark")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                        help="embedding benchmark device; cpu is a smoke check (use a small --sentences)")
    parser.add_argument("--batch-tokens", default="",
                        help="comma-separated padded-token budgets to time mtkit's encoder at (default: its own)")
    args = parser.parse_args()
    budgets = [int(b) for b in args.batch_tokens.split(",") if b.strip()] or [None]
    if args.embedding_only:
        print(embedding_benchmark(args.sentences, args.device, budgets))
        return 0
    rows = dp_benchmark(args.venv, args.dim)
    print(f"DP alone, embeddings given (dim {args.dim}), pairs/s")
    print(f"{'size':>10} {'mtkit':>10} {'bertalign':>10} {'ratio':>7} {'mtkit ms/sentence':>18}")
    for size, ours, theirs in rows:
        print(f"{size:>5}x{size:<4} {ours:>10.1f} {theirs:>10.1f} {ours / theirs:>6.2f}x {1000 / ours / size:>18.3f}")
    print(embedding_benchmark(args.sentences, args.device, budgets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
