"""Translation throughput: transformers `generate`, mtkit's engine and CTranslate2 in one run.

    python bench/translate_speed.py                       # on the GPU machine: opus-mt and NLLB-600M shapes
    python bench/translate_speed.py --smoke               # anywhere: a tiny model, few sentences, CPU

Random-weight models with the real shapes (throughput depends on shapes and output length, not on weights),
source sentences of log-normal lengths (mean about 40 tokens, 4 to 200), output length forced
(min = max new tokens) so that every system generates the same number of tokens. Prints generated tokens/s,
peak GPU memory, and the ratios mtkit/CT2 and mtkit/HF. CTranslate2 is measured where it is installed (see
../shared/GPU.md for the cuBLAS 12 names it needs on the GPU machine).

``--max-length N`` (N > --new-tokens; Marian shapes) is the case users run: a length limit well above what the
sentences need. Every output still ends after --new-tokens tokens (minimum length, then an EOS logit bias makes
EOS the choice), but each system decodes under the limit N; mtkit is also measured with a cache of N positions
from the start (``mtkit full-cache``, its behaviour before the cache grew), as the same-run anchor of that change.

On the CPU, ``mtkit F.linear`` is the engine with its linear layers through ``F.linear`` (MKL's sgemm) instead of
oneDNN with packed weights (mtkit.cpu.PackedLinears): the same-run anchor of that change.
"""

from __future__ import annotations

import argparse
import os
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


def build(shape: str, out: Path, eos_bias: float = 0.0):
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, MarianConfig, MarianMTModel

    from mtkit.testing import SHAPES as LAYERS

    family, vocab = SHAPES[shape]
    layers = LAYERS["tiny" if shape == "tiny" else shape]
    torch.manual_seed(0)
    if family == "marian":
        config = MarianConfig(vocab_size=vocab, pad_token_id=vocab - 1, eos_token_id=0,
                              decoder_start_token_id=vocab - 1,
                              max_position_embeddings=512, **layers)
        model = MarianMTModel(config)
        if eos_bias:  # outputs end as soon as the minimum length allows (see --max-length)
            model.final_logits_bias[0, config.eos_token_id] = eos_bias
    else:
        if eos_bias:
            raise SystemExit("--max-length needs a Marian shape (M2M100 has no final_logits_bias to end outputs)")
        config = M2M100Config(vocab_size=vocab, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                              max_position_embeddings=1024, scale_embedding=True, **layers)
        model = M2M100ForConditionalGeneration(config)
    model.generation_config.forced_eos_token_id = None
    model.save_pretrained(out)
    return model


class IdVocab:
    """A stand-in tokenizer over made-up tokens ``t<id>``: enough for the backends (they take ids) and for
    CTranslate2's Transformers converter (its ``load_tokenizer`` hook), which only reads the vocabulary and the
    special tokens. Throughput needs ids, not text."""

    num_madeup_words = 0
    special_tokens_map: dict = {}

    def __init__(self, family: str, size: int):
        specials = {"marian": {0: "</s>", 1: "<unk>", size - 1: "<pad>"},
                    "m2m100": {0: "<s>", 1: "<pad>", 2: "</s>", 3: "<unk>"}}[family]
        self.tokens = [specials.get(i, f"t{i}") for i in range(size)]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.bos_token = "<s>" if family == "m2m100" else None
        self.eos_token, self.unk_token = "</s>", "<unk>"
        self.unk_token_id, self.pad_token_id = self.ids["<unk>"], self.ids["<pad>"]

    def get_vocab(self) -> dict:
        return dict(self.ids)

    def convert_ids_to_tokens(self, ids):
        return self.tokens[ids] if isinstance(ids, int) else [self.tokens[i] for i in ids]

    def convert_tokens_to_ids(self, tokens):
        return self.ids[tokens] if isinstance(tokens, str) else [self.ids[t] for t in tokens]


def sources(n: int, vocab: int, eos: int, seed: int = 0) -> list[list[int]]:
    """``n`` random id sequences of log-normal lengths (mean about 40 tokens, 4 to 200), each ending in EOS."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(36), 0.5, n).astype(int), 4, 200)
    return [list(map(int, rng.integers(10, vocab - 10, size=k))) + [eos] for k in lengths]


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


def run_shape(shape: str, args) -> tuple[list[tuple], str]:
    import torch

    from mtkit.translate.engine import HFBackend, MtkitBackend
    from mtkit.utils import length_sorted_batches

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = args.dtype if device == "cuda" else "fp32"
    family, _ = SHAPES[shape]
    n, new_tokens = args.sentences, args.new_tokens
    max_length = args.max_length or new_tokens
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = build(shape, Path(tmp), eos_bias=30.0 if max_length > new_tokens else 0.0).to(device).eval()
        tok = IdVocab(family, model.config.vocab_size)
        src = sources(n, model.config.vocab_size, model.config.eos_token_id)
        # correctness gate on this device, fp32: mtkit's greedy ids equal generate's
        check = src[:16]
        gate = dict(max_length=16, min_length=8 if max_length > new_tokens else 0)  # EOS-biased: 8 steps checked
        equal = {beam: MtkitBackend(model, tok).translate_batch(check, beam_size=beam, **gate) ==
                 HFBackend(model, tok).translate_batch(check, beam_size=beam, **gate) for beam in (1, 4)}
        model.to({"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dtype])
        for beam in [int(b) for b in args.beams.split(",")]:
            systems = [("hf generate", HFBackend(model, tok), str(args.batch))]
            systems += [("mtkit", MtkitBackend(model, tok), b) for b in args.mtkit_batch.split(",")]
            if max_length > new_tokens:
                full = MtkitBackend(model, tok)
                full.cache_start = max_length
                systems.append(("mtkit full-cache", full, args.mtkit_batch.split(",")[0]))
            if device == "cpu":  # the anchor of the CPU engine's oneDNN layers: MKL's F.linear, as before them
                unpacked = MtkitBackend(model, tok)
                unpacked._linears.enabled = False
                systems.append(("mtkit F.linear", unpacked, args.mtkit_batch.split(",")[0]))
            for name, backend, batch in systems:
                # "ROWS" or "ROWS:TOKENS": at most ROWS sentences and TOKENS padded source tokens a batch
                rows_, _, tokens_ = batch.partition(":")
                batches = list(length_sorted_batches(src, max_batch_size=int(rows_),
                                                     max_batch_tokens=int(tokens_ or 0)))

                def go():
                    for b in batches:
                        backend.translate_batch([src[i] for i in b], beam_size=beam, max_length=max_length,
                                                min_length=new_tokens)
                if device == "cuda":  # one system's cached blocks (graph pools) must not starve the next
                    torch.cuda.empty_cache()
                try:  # one system failing must not lose the others' figures from the run
                    backend.translate_batch([src[i] for i in batches[0][:2]], beam_size=beam, max_length=4,
                                            min_length=4)
                    seconds, peak = timed(go)
                    rows.append((shape, beam, f"{name} b{batch}", n * new_tokens / seconds, peak, ""))
                except Exception as exc:  # noqa: BLE001
                    rows.append((shape, beam, f"{name} b{batch}", None, None, f"failed: {exc!r}"[:200]))
            for ct2_batch in map(int, args.ct2_batch.split(",")):
                if device == "cuda":
                    torch.cuda.empty_cache()
                try:
                    rows.append(ct2_row(shape, beam, Path(tmp), tok, src, new_tokens, ct2_batch, device, dtype,
                                        max_length))
                except Exception as exc:  # noqa: BLE001
                    rows.append((shape, beam, f"ctranslate2 b{ct2_batch}", None, None, f"failed: {exc!r}"[:200]))
    verdict = ", ".join(f"{'greedy' if b == 1 else f'beam {b}'} {'yes' if ok else 'NO'}" for b, ok in equal.items())
    return rows, f"{shape}: mtkit ids == generate's (fp32, 16 sentences, 16 tokens): {verdict}"


def ct2_row(shape, beam, model_dir, tok, src, new_tokens, batch, device, dtype, max_length):
    label = f"ctranslate2 b{batch}"
    try:
        import ctranslate2
    except ImportError:
        return (shape, beam, label, None, None, "not installed here (pip install 'mtkit[ct2]')")
    out = model_dir / "ct2"
    if not (out / "model.bin").is_file():
        class Converter(ctranslate2.converters.TransformersConverter):
            def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
                return tok  # the made-up vocabulary: the random model has no tokenizer files

        Converter(str(model_dir)).convert(str(out), force=True)
    compute = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}[dtype]
    translator = ctranslate2.Translator(str(out), device=device, compute_type=compute)
    tokens = [tok.convert_ids_to_tokens(s) for s in src]

    def go():
        translator.translate_batch(tokens, beam_size=beam, max_batch_size=batch, batch_type="examples",
                                   min_decoding_length=new_tokens, max_decoding_length=max_length)
    translator.translate_batch(tokens[:2], beam_size=beam, max_decoding_length=4)
    seconds, _ = timed(go)
    return (shape, beam, label, len(src) * new_tokens / seconds, None, "")


GATE_SOURCES = ["公安部严打电诈跨国犯罪", "Polisi menangkap lebih dari 50.000 tersangka", "缅甸警方", "合作",
                "缅甸警方一次性移交了白所成等10名重大的电诈头目,已累计抓获缅北涉诈犯罪嫌疑人5万多名。",
                "缅甸 警方", "公安 部 严打 电诈 跨国 犯罪", "泰国 合作 缅甸 警方 公安"]


def correctness_gate(device: str) -> list[str]:
    """The tests' equality check on this device: fp32, mtkit's ids == generate's, greedy and beam 4, for the
    tests' random-weight Marian, M2M100 (forced target token), MBart, T5 and mT5 and the copy model trained here (whose
    outputs end at different lengths, so that rows leave the batch and, on CUDA, graphs are re-captured)."""
    from mtkit.testing import build_tiny_m2m100, build_tiny_marian, build_tiny_mbart, build_tiny_t5, train_copy_model
    from mtkit.translate import Translator

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        marian = build_tiny_marian(root / "marian")
        models = {"marian": (marian, None, None), "m2m100": (build_tiny_m2m100(root / "m2m100"), "zh", "en"),
                  "mbart": (build_tiny_mbart(root / "mbart"), "zh", "en"),
                  "t5": (build_tiny_t5(root / "t5"), "zh", "en"),
                  "mt5": (build_tiny_t5(root / "mt5", feed_forward_proj="gated-gelu", tie_word_embeddings=False),
                          "zh", "en"),
                  "trained": (train_copy_model(marian, root / "trained"), None, None)}
        for name, (path, src, tgt) in models.items():
            hf, ours = (Translator(path, backend=b, device=device, dtype="fp32", src_lang=src, tgt_lang=tgt)
                        for b in ("hf", "mtkit"))
            ids = [hf.tokenizer(s).input_ids for s in GATE_SOURCES]
            verdicts = []
            for beam in (1, 4):
                expected = hf.backend.translate_batch(ids, beam_size=beam, max_length=20)
                got = ours.backend.translate_batch(ids, beam_size=beam, max_length=20)
                lengths = sorted({len(x) for x in got})
                verdicts.append(f"{'greedy' if beam == 1 else 'beam 4'} {'yes' if got == expected else 'NO'}"
                                f" (output lengths {lengths[0]}..{lengths[-1]})")
            lines.append(f"gate {name} on {device}, fp32: mtkit ids == generate's: {'; '.join(verdicts)}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny model, 64 sentences, 8 tokens (CPU check)")
    parser.add_argument("--shapes", default="opus-mt-zh-en,nllb-600m")
    parser.add_argument("--sentences", type=int, default=2048)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--max-length", type=int,
                        help="length limit above --new-tokens, outputs still ending after --new-tokens (see above)")
    parser.add_argument("--beams", default="1,4")
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--gate", action="store_true", help="first run the tests' fp32 equality check on this device")
    parser.add_argument("--debug", action="store_true", help="log the engine's debug messages (graph capture causes)")
    parser.add_argument("--batch", type=int, default=128, help="sentences per generate call (HF)")
    parser.add_argument("--mtkit-batch", default="1024,2048:65536",
                        help="mtkit batches, ROWS or ROWS:PADDED_SOURCE_TOKENS (comma list: one row each)")
    parser.add_argument("--ct2-batch", default="512", help="CTranslate2 max_batch_size in examples (comma list)")
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc's malloc as it is (a CPU Translator makes it reuse freed blocks: "
                             "mtkit.cpu.reuse_freed_memory); either way every system runs under the same setting")
    args = parser.parse_args()
    if not args.default_malloc:
        from mtkit.cpu import reuse_freed_memory

        reuse_freed_memory()
    if args.smoke:
        args.shapes, args.sentences, args.new_tokens, args.batch, args.mtkit_batch, args.ct2_batch = \
            "tiny", 64, 8, 16, "16", "16"
    if args.debug:
        import logging

        logging.basicConfig(level=logging.WARNING)
        logging.getLogger("mtkit.translate").setLevel(logging.DEBUG)
    rows, checks = [], []
    if args.gate:
        import torch

        checks += correctness_gate("cuda" if torch.cuda.is_available() else "cpu")
        print("\n".join(checks), flush=True)
    for shape in args.shapes.split(","):
        shape_rows, check = run_shape(shape, args)
        rows += shape_rows
        checks.append(check)
    malloc = "glibc default" if args.default_malloc else "freed blocks reused, as a CPU Translator"
    table = format_table(rows, checks, malloc)
    print(table)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "translate_speed.md").write_text(table + "\n", encoding="utf-8")
    return 0


def format_table(rows, checks, malloc: str) -> str:
    """A markdown table: tokens/s, peak GPU memory, and mtkit's ratio to each system at the same beam."""
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [f"device: {device}; malloc: {malloc}", *checks, "",
             "| shape | beam | system | tokens/s | peak GiB | mtkit/this |", "|---|---|---|---|---|---|"]
    ours: dict = {}  # mtkit's best batch size per shape and beam is the one compared
    for r in rows:
        if r[2].startswith("mtkit b") and r[3]:
            ours[(r[0], r[1])] = max(r[3], ours.get((r[0], r[1]), 0))
    for shape, beam, name, speed, peak, note in rows:
        if speed is None:
            lines.append(f"| {shape} | {beam} | {name} | - | - | {note} |")
            continue
        peak_text = "-" if peak is None or peak != peak else f"{peak:.2f}"
        mine = ours.get((shape, beam))
        ratio = f"{mine / speed:.2f}x" if mine else "-"
        lines.append(f"| {shape} | {beam} | {name} | {speed:,.0f} | {peak_text} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
