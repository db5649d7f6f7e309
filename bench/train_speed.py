"""Training throughput: mtkit's fine-tuning setup vs a plain Seq2SeqTrainer, in one run.

    python bench/train_speed.py                  # on the GPU machine: opus-mt and NLLB-600M shapes
    python bench/train_speed.py --smoke          # anywhere: a tiny model, few pairs, CPU

Random-weight models with the real shapes (speed depends on shapes and lengths, not on weights) and synthetic
pairs of log-normal lengths (source mean about 30 tokens, 4 to 128; target 0.8-1.3x the source), the same
pairs for every setup. Each setup trains one untimed warm-up of a few steps, then one timed epoch:

- baseline: `Seq2SeqTrainer` as a user writes it: fixed batch size, random order, padding to the batch's
  longest pair, fp32, AdamW (the batch size is chosen to give the same real tokens per step as mtkit's budget);
- baseline-bf16 (GPU only): the same with bf16, to tell bf16's share from the batching's;
- mtkit: `mtkit.finetune.build_trainer`, i.e. token-budget length-grouped batches, bf16, fused AdamW
  (`--compile` adds torch.compile).

Reported: real (non-pad) source+target tokens/s, padding share, peak GPU memory, the ratio to the baseline
(target >= 1.5x), and the model FLOPs utilisation: 6 x (encoder params x source tokens + (decoder + output
layer) params x target tokens) / time / the GPU's peak dense bf16 FLOP/s; embedding lookups and attention
scores are not counted, as in the usual 6ND estimate.
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

VOCAB = {"opus-mt-zh-en": ("marian", 65_001), "nllb-600m": ("m2m100", 256_206), "tiny": ("marian", 2_000)}
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense, SXM, from the vendors' data sheets
BUDGET = {"opus-mt-zh-en": 12_288, "nllb-600m": 4_096, "tiny": 1_024}


def build(shape: str):
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, MarianConfig, MarianMTModel

    from mtkit.testing import SHAPES

    family, vocab = VOCAB[shape]
    torch.manual_seed(0)
    if family == "marian":
        config = MarianConfig(vocab_size=vocab, pad_token_id=vocab - 1, eos_token_id=0, decoder_start_token_id=vocab - 1,
                              max_position_embeddings=512, **SHAPES[shape])
        return MarianMTModel(config)
    config = M2M100Config(vocab_size=vocab, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                          max_position_embeddings=1024, scale_embedding=True, **SHAPES[shape])
    return M2M100ForConditionalGeneration(config)


def pad_tokenizer(model):
    """A word-level tokenizer whose only job is the collator's padding (the features are ids already)."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    pad, eos = model.config.pad_token_id, model.config.eos_token_id
    unk = next(i for i in range(3, 10) if i not in (pad, eos))
    vocab = {"<pad>": pad, "</s>": eos, "<unk>": unk}
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="<unk>")),
                                   pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def synthetic_pairs(n: int, vocab: int, seed: int = 0) -> list[dict]:
    """Random ids between the low special tokens (0-3) and Marian's pad (the last id)."""
    rng = np.random.default_rng(seed)
    src = np.clip(rng.lognormal(np.log(26), 0.6, n).round().astype(int), 4, 128)
    tgt = np.clip((src * rng.uniform(0.8, 1.3, n)).round().astype(int), 4, 128)
    out = []
    for s, t in zip(src, tgt):
        ids = rng.integers(4, vocab - 2, s + t).tolist()
        out.append({"input_ids": ids[:s], "attention_mask": [1] * s, "labels": ids[s:]})
    return out


def flops_per_token(model) -> tuple[int, int]:
    """(encoder params, decoder + output-layer params) that do matmuls per source / target token."""
    def matmul_params(module):
        return sum(p.numel() for name, p in module.named_parameters() if "embed" not in name)

    head = model.config.vocab_size * model.config.d_model
    return matmul_params(model.get_encoder()), matmul_params(model.get_decoder()) + head


def run_setup(name: str, model_fn, train: list[dict], *, budget: int, baseline_batch: int, steps_warm: int,
              compile_: bool, out: Path) -> dict:
    import torch
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    from mtkit.finetune import FinetuneConfig, build_trainer

    model = model_fn()
    tokenizer = pad_tokenizer(model)
    cuda = torch.cuda.is_available()

    def make(max_steps: int):
        if name == "mtkit":
            settings = FinetuneConfig.from_dict(dict(batch_max_tokens=budget, num_epochs=1, max_steps=max_steps,
                                                     warmup_ratio=0.0, learning_rate=1e-4, eval_steps=10**9,
                                                     save_steps=10**9, logging_steps=10**9,
                                                     torch_compile=compile_))
            trainer = build_trainer(model, tokenizer, train, settings=settings, run_dir=out / name)
            trainer.args.save_strategy = "no"
            return trainer
        args = Seq2SeqTrainingArguments(output_dir=str(out / name), per_device_train_batch_size=baseline_batch,
                                        num_train_epochs=1, max_steps=max_steps, learning_rate=1e-4,
                                        save_strategy="no", logging_steps=10**9, report_to=[], disable_tqdm=True,
                                        bf16=name == "baseline-bf16", remove_unused_columns=False)
        return Seq2SeqTrainer(model=model, args=args, train_dataset=train,
                              data_collator=DataCollatorForSeq2Seq(tokenizer, model=model, padding=True))

    make(steps_warm).train()  # kernels, allocator, cuBLAS handles, compilation
    trainer = make(-1)
    loader = trainer.get_train_dataloader()
    padded = sum(b["input_ids"].numel() + b["labels"].numel() for b in loader)
    real = sum(len(x["input_ids"]) + len(x["labels"]) for x in train)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer.train()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    enc, dec = flops_per_token(model)
    src_tokens = sum(len(x["input_ids"]) for x in train)
    flops = 6 * (enc * src_tokens + dec * (real - src_tokens))
    return {"setup": name, "steps": trainer.state.global_step, "seconds": seconds, "tokens_s": real / seconds,
            "padding": 1 - real / padded, "flops_s": flops / seconds,
            "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny model, 384 pairs, CPU-sized")
    parser.add_argument("--shapes", nargs="+", default=["opus-mt-zh-en", "nllb-600m"], choices=list(VOCAB))
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--compile", action="store_true", help="torch.compile in mtkit's setup")
    parser.add_argument("--peak-tflops", type=float, help="peak dense bf16 TFLOP/s (default: known GPUs)")
    args = parser.parse_args()

    import torch

    if args.smoke:
        args.shapes, args.pairs = ["tiny"], 384
    cuda = torch.cuda.is_available()
    device = torch.cuda.get_device_name() if cuda else "CPU"
    peak = args.peak_tflops * 1e12 if args.peak_tflops else next((v for k, v in PEAK_BF16.items() if k in device), None)
    setups = ["baseline", "baseline-bf16", "mtkit"] if cuda else ["baseline", "mtkit"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes:
            vocab = VOCAB[shape][1]
            train = synthetic_pairs(args.pairs, vocab)
            budget = BUDGET[shape]
            mean_max = float(np.mean([max(len(x["input_ids"]), len(x["labels"])) for x in train]))
            # the baseline gets the same real tokens per step as mtkit's full batches
            baseline_batch = max(1, int(budget / 2 / mean_max))
            for name in setups:
                try:
                    row = run_setup(name, lambda: build(shape), train, budget=budget, baseline_batch=baseline_batch,
                                    steps_warm=3 if args.smoke else 10, compile_=args.compile, out=Path(tmp))
                except torch.cuda.OutOfMemoryError:  # a fixed batch of long random pairs can overflow; say so
                    torch.cuda.empty_cache()
                    print(f"{shape} {name}: out of GPU memory", file=sys.stderr)
                    continue
                rows.append({"shape": shape, "batch": f"{baseline_batch} pairs" if name != "mtkit" else f"{budget} tok",
                             **row})
                print(f"{shape} {name}: {row['tokens_s']:,.0f} tokens/s", file=sys.stderr)
    print(f"device: {device}; pairs: {args.pairs}; compile: {args.compile}")
    print(table(rows, peak))
    return 0


def table(rows: list[dict], peak: float | None) -> str:
    lines = ["| shape | setup | batch | steps | tokens/s | padding | peak GiB | MFU | mtkit/this |",
             "|---|---|---|---|---|---|---|---|---|"]
    mtkit = {r["shape"]: r["tokens_s"] for r in rows if r["setup"] == "mtkit"}
    rows = [r for r in rows if r["shape"] in mtkit]
    for r in rows:
        mfu = f"{r['flops_s'] / peak:.1%}" if peak else "-"
        mem = "-" if r["peak_gib"] != r["peak_gib"] else f"{r['peak_gib']:.1f}"
        lines.append(f"| {r['shape']} | {r['setup']} | {r['batch']} | {r['steps']} | {r['tokens_s']:,.0f} | "
                     f"{r['padding']:.0%} | {mem} | {mfu} | {mtkit[r['shape']] / r['tokens_s']:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
