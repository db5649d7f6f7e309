"""Training throughput: mtkit's fine-tuning setup vs a plain Seq2SeqTrainer, in one run.

    python bench/train_speed.py                  # on the GPU machine: opus-mt and NLLB-600M shapes (~3 min, H100)
    python bench/train_speed.py --smoke          # anywhere: a tiny model, few pairs, CPU

Random-weight models with the real shapes (speed depends on shapes and lengths, not on weights) and synthetic
pairs of log-normal lengths (source mean about 30 tokens, 4 to 128; target 0.8-1.3x the source), the same
pairs for every setup of a shape (PAIRS per shape, or --pairs). Each setup is one Trainer run over the pairs
(--epochs); the first --warmup-steps steps of that same run warm it up (kernels, allocator, optimizer state) and
the timed window runs from the start of the next step to the end of training, the GPU synchronized at both ends:

- baseline: `Seq2SeqTrainer` as a user writes it: fixed batch size, random order, padding to the batch's
  longest pair, `DataCollatorForSeq2Seq`, fp32, AdamW, torch's defaults (the batch size gives the same real
  tokens per step as mtkit's token budget: budget / mean padded pair length);
- baseline-bf16 (GPU only): the same with bf16, to tell bf16's share from the rest;
- mtkit: `mtkit.finetune.build_trainer`: token-budget length-grouped batches padded in numpy, bf16, fused
  AdamW, tf32, the loss from bf16 logits, SDPA without cuDNN (`--compile` adds torch.compile).

Reported: real (non-pad) source+target tokens/s in the timed window and over the whole `train()` call (setup
and warm-up included), padding share, peak GPU memory, the ratio to the baseline (target >= 1.5x), and the
model FLOPs utilisation of the timed window: 6 x (encoder params x source tokens + (decoder + output layer)
params x target tokens) / time / the GPU's peak dense bf16 FLOP/s; embedding lookups and attention scores are
not counted, as in the usual 6ND estimate. Tokens are counted from the batches the Trainer actually trained on.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VOCAB = {"opus-mt-zh-en": ("marian", 65_001), "nllb-600m": ("m2m100", 256_206), "tiny": ("marian", 2_000)}
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense, SXM, from the vendors' data sheets
# padded source+target tokens a step; the baseline's fixed batch holds as many real tokens, which bounds the
# budget by what its fp32 (tokens x vocabulary) logits leave of an H100's memory
BUDGET = {"opus-mt-zh-en": 24_576, "nllb-600m": 4_096, "tiny": 1_024}
# enough pairs for about 60 steps a setup (fewer for NLLB, whose fp32 baseline steps take most of the run)
PAIRS = {"opus-mt-zh-en": 20_000, "nllb-600m": 3_000, "tiny": 384}


def build(shape: str, device: str = "cpu"):
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, MarianConfig, MarianMTModel

    from mtkit.testing import SHAPES

    family, vocab = VOCAB[shape]
    torch.manual_seed(0)
    if family == "marian":
        config = MarianConfig(vocab_size=vocab, pad_token_id=vocab - 1, eos_token_id=0,
                              decoder_start_token_id=vocab - 1,
                              max_position_embeddings=512, **SHAPES[shape])
        with torch.device(device):  # random init where the model trains: seconds, not minutes, for NLLB's size
            return MarianMTModel(config)
    config = M2M100Config(vocab_size=vocab, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                          max_position_embeddings=1024, scale_embedding=True, **SHAPES[shape])
    with torch.device(device):
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


def matching_batch_size(train: list[dict], budget: int) -> int:
    """The baseline's fixed batch size: as many pairs a step as mtkit's token-budget batches hold on average,
    so both take the same number of steps (and real tokens a step) over the pairs."""
    from mtkit.finetune import TokenBudgetBatchSampler

    sampler = TokenBudgetBatchSampler([len(x["input_ids"]) for x in train], [len(x["labels"]) for x in train],
                                      max_tokens=budget, seed=0)
    return max(1, -(-len(train) // len(sampler)))


class CountingCollator:
    """Wraps a collator and records (real source, real target, padded) tokens of every batch, in order."""

    def __init__(self, collate):
        self.collate, self.batches = collate, []

    def __call__(self, rows):
        batch = self.collate(rows)
        labels = batch["labels"]
        self.batches.append((int(batch["attention_mask"].sum()), int((labels != -100).sum()),
                             batch["input_ids"].numel() + labels.numel()))
        return batch


def timing_callback(warmup_steps: int):
    import torch
    from transformers import TrainerCallback

    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)

    class Timing(TrainerCallback):
        """Wall time from the start of step ``warmup_steps`` (0-based) to the end of training."""
        start = end = None
        start_step = end_step = 0

        def on_step_begin(self, args, state, control, **kwargs):
            if self.start is None and state.global_step >= warmup_steps:
                sync()
                self.start, self.start_step = time.perf_counter(), state.global_step

        def on_train_end(self, args, state, control, **kwargs):
            sync()
            self.end, self.end_step = time.perf_counter(), state.global_step

    return Timing()


def precision_state():
    """torch's fp32 matmul settings, which transformers' tf32=True changes process-wide; restore() puts them back."""
    import torch

    names = [(torch.backends, "fp32_precision"), (torch.backends.cuda.matmul, "fp32_precision"),
             (torch.backends.cudnn, "fp32_precision")]
    names = [(obj, name) for obj, name in names if hasattr(obj, name)] or \
        [(torch.backends.cuda.matmul, "allow_tf32"), (torch.backends.cudnn, "allow_tf32")]
    saved = [(obj, name, getattr(obj, name)) for obj, name in names]

    def restore():
        for obj, name, value in saved:
            setattr(obj, name, value)
    return restore


def run_setup(name: str, model_fn, train: list[dict], *, budget: int, baseline_batch: int, warmup_steps: int,
              epochs: float, compile_: bool, out: Path) -> dict:
    import torch
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    from mtkit.finetune import FinetuneConfig, build_trainer

    cuda = torch.cuda.is_available()
    model = model_fn()
    tokenizer = pad_tokenizer(model)
    timing = timing_callback(warmup_steps)
    if name == "mtkit":
        settings = FinetuneConfig.from_dict(dict(batch_max_tokens=budget, num_epochs=epochs, warmup_ratio=0.0,
                                                 learning_rate=1e-4, eval_steps=10**9, save_steps=10**9,
                                                 logging_steps=10**9, torch_compile=compile_))
        trainer = build_trainer(model, tokenizer, train, settings=settings, run_dir=out / name, callbacks=[timing])
        trainer.args.save_strategy = "no"
        counter = CountingCollator(trainer.train_collator)
        trainer.train_collator = counter
    else:
        counter = CountingCollator(DataCollatorForSeq2Seq(tokenizer, model=model, padding=True))
        args = Seq2SeqTrainingArguments(output_dir=str(out / name), per_device_train_batch_size=baseline_batch,
                                        num_train_epochs=epochs, learning_rate=1e-4, save_strategy="no",
                                        logging_steps=10**9, report_to=[], disable_tqdm=True,
                                        bf16=name == "baseline-bf16", remove_unused_columns=False)
        trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=train, data_collator=counter,
                                 callbacks=[timing])
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer.train()
    whole = time.perf_counter() - start
    steps = trainer.state.global_step
    if len(counter.batches) != steps:  # one batch a step (no gradient accumulation): the counts line up
        raise RuntimeError(f"{name}: {len(counter.batches)} batches for {steps} steps")
    if timing.start is None:
        raise RuntimeError(f"{name}: {steps} steps, not more than --warmup-steps {warmup_steps}")
    timed = np.array(counter.batches[timing.start_step:], dtype=np.int64).sum(axis=0)
    every = np.array(counter.batches, dtype=np.int64).sum(axis=0)
    seconds = timing.end - timing.start
    enc, dec = flops_per_token(model)
    row = {"setup": name, "steps": steps, "timed_steps": timing.end_step - timing.start_step, "seconds": seconds,
           "tokens_s": (timed[0] + timed[1]) / seconds, "whole_tokens_s": (every[0] + every[1]) / whole,
           "whole_seconds": whole, "padding": 1 - (every[0] + every[1]) / every[2],
           "flops_s": 6 * (enc * timed[0] + dec * timed[1]) / seconds,
           "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")}
    del trainer, model
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny model, 384 pairs, CPU-sized")
    parser.add_argument("--shapes", nargs="+", default=["opus-mt-zh-en", "nllb-600m"], choices=list(VOCAB))
    parser.add_argument("--pairs", type=int, help="synthetic pairs per shape (default: PAIRS)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--warmup-steps", type=int, help="untimed steps at the start of each run (default 8; smoke 3)")
    parser.add_argument("--setups", nargs="+", choices=["baseline", "baseline-bf16", "mtkit"],
                        help="default: all three on a GPU, baseline and mtkit on CPU")
    parser.add_argument("--compile", action="store_true", help="torch.compile in mtkit's setup")
    parser.add_argument("--peak-tflops", type=float, help="peak dense bf16 TFLOP/s (default: known GPUs)")
    args = parser.parse_args()

    import torch

    if args.smoke:
        args.shapes = ["tiny"]
    warmup = args.warmup_steps if args.warmup_steps is not None else (3 if args.smoke else 8)
    cuda = torch.cuda.is_available()
    device = torch.cuda.get_device_name() if cuda else "CPU"
    peak = args.peak_tflops * 1e12 if args.peak_tflops else next((v for k, v in PEAK_BF16.items() if k in device), None)
    setups = args.setups or (["baseline", "baseline-bf16", "mtkit"] if cuda else ["baseline", "mtkit"])
    restore_precision = precision_state()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes:
            vocab = VOCAB[shape][1]
            n_pairs = args.pairs or PAIRS[shape]
            train = synthetic_pairs(n_pairs, vocab)
            budget = BUDGET[shape]
            baseline_batch = matching_batch_size(train, budget)
            for name in setups:
                restore_precision()  # torch's defaults for the baseline, whatever ran before
                try:
                    row = run_setup(name, lambda: build(shape, "cuda" if cuda else "cpu"), train, budget=budget,
                                    baseline_batch=baseline_batch, warmup_steps=warmup, epochs=args.epochs,
                                    compile_=args.compile, out=Path(tmp))
                except torch.cuda.OutOfMemoryError:  # a fixed batch of long random pairs can overflow; say so
                    gc.collect()
                    torch.cuda.empty_cache()
                    print(f"{shape} {name}: out of GPU memory", file=sys.stderr)
                    continue
                rows.append({"shape": shape, "pairs": n_pairs,
                             "batch": f"{baseline_batch} pairs" if name != "mtkit" else f"{budget} tok", **row})
                print(f"{shape} {name}: {row['tokens_s']:,.0f} tokens/s over {row['timed_steps']} steps "
                      f"({row['seconds']:.1f} s); whole train() {row['whole_seconds']:.1f} s", file=sys.stderr)
    print(f"device: {device}; epochs: {args.epochs}; warm-up steps: {warmup}; compile: {args.compile}")
    print(table(rows, peak))
    return 0


def table(rows: list[dict], peak: float | None) -> str:
    lines = ["| shape | pairs | setup | batch | steps (timed) | tokens/s | whole-run tokens/s | padding | peak GiB "
             "| MFU | mtkit/this |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    mtkit = {r["shape"]: r["tokens_s"] for r in rows if r["setup"] == "mtkit"}
    for r in rows:
        mfu = f"{r['flops_s'] / peak:.1%}" if peak else "-"
        mem = "-" if r["peak_gib"] != r["peak_gib"] else f"{r['peak_gib']:.1f}"
        ratio = f"{mtkit[r['shape']] / r['tokens_s']:.2f}x" if r["shape"] in mtkit else "-"
        lines.append(f"| {r['shape']} | {r['pairs']} | {r['setup']} | {r['batch']} | {r['steps']} ({r['timed_steps']}) "
                     f"| {r['tokens_s']:,.0f} | {r['whole_tokens_s']:,.0f} | {r['padding']:.0%} | {mem} | {mfu} "
                     f"| {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
