"""Fine-tuning seq2seq translation models on a built corpus: full or LoRA, on transformers' Seq2SeqTrainer.

Everything that can be wrong with the inputs is checked before any training step. Batches hold a token
budget of length-grouped pairs, in an order fixed by the seed and the epoch, so that a resumed run sees the
same data in the same order. Multi-GPU: run the same command under ``accelerate launch`` or ``torchrun``.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, DataError
from ..utils import length_sorted_batches, stable_hash, write_json
from .config import LORA_TARGETS, FinetuneConfig

__all__ = ["FinetuneConfig", "FinetuneResult", "finetune", "TokenBudgetBatchSampler", "load_parallel_splits"]

logger = logging.getLogger("mtkit.finetune")
DONE = "done.json"


@dataclass
class FinetuneResult:
    run_dir: Path
    final_dir: Path
    metrics: dict
    resumed_from: str | None = None
    skipped: bool = False


class TokenBudgetBatchSampler:
    """Batches of indices whose padded size stays within a token budget, grouped by length.

    Pairs are sorted by length inside windows of ``window`` pairs taken in a seeded shuffle, and the batches
    themselves are shuffled, all from ``(seed, epoch)``: the same epoch always gives the same batches.
    """

    def __init__(self, lengths: list[int], *, max_tokens: int, seed: int, window: int = 1000):
        self.lengths, self.max_tokens, self.seed, self.window = lengths, max_tokens, seed, window
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _batches(self) -> list[list[int]]:
        rng = random.Random(stable_hash(self.seed, self.epoch))
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        batches = []
        for start in range(0, len(order), self.window):
            window = order[start:start + self.window]
            for batch in length_sorted_batches(window, max_batch_tokens=self.max_tokens, length=lambda i: self.lengths[i]):
                batches.append([window[k] for k in batch])
        rng.shuffle(batches)
        return batches

    def __iter__(self):
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())


def load_parallel_splits(dataset: str | Path, config: str, direction: str) -> tuple[dict, str, str]:
    """{split: (sources, targets)} of a built dataset folder, a save_to_disk folder or a Hub dataset."""
    import datasets

    from ..evaluate.run import parse_direction

    src, tgt = parse_direction(direction, config)
    path = Path(dataset)
    if (path / "dataset_dict.json").is_file():
        dd = datasets.load_from_disk(str(path))
    else:
        try:
            dd = datasets.load_dataset(str(dataset), config)
        except ValueError as exc:
            raise ConfigError(f"{dataset}: no config {config!r} ({exc})") from None
    splits = {}
    for name, ds in dd.items():
        rows = ds["translation"]
        splits[name] = ([r[src] for r in rows], [r[tgt] for r in rows])
    if not splits.get("train") or not splits["train"][0]:
        raise DataError(f"{dataset} ({config}): the train split is empty")
    return splits, src, tgt


def _check_tokenizer_languages(tokenizer, model, src: str, tgt: str) -> dict:
    from ..translate.languages import language_code_for, model_family

    family = model_family(model)
    codes = {"src": language_code_for(tokenizer, src, family), "tgt": language_code_for(tokenizer, tgt, family)}
    return {"family": family, **codes}


def finetune(model_name: str, dataset: str | Path, *, config: str, direction: str, out_dir: str | Path,
             settings: FinetuneConfig | None = None, resume: bool = True, model_cards_dir: str | Path | None = "model_cards",
             stop_after_steps: int | None = None) -> FinetuneResult:
    """Fine-tune ``model_name`` on ``dataset``'s ``config`` in ``direction`` (``zh->en``) into ``out_dir``."""
    import torch
    from transformers import (AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, EarlyStoppingCallback,
                              Seq2SeqTrainer, Seq2SeqTrainingArguments, TrainerCallback)

    settings = settings or FinetuneConfig()
    settings.validate()
    run = Path(out_dir)
    key = stable_hash(str(model_name), str(dataset), config, direction, settings.to_dict())
    done = run / DONE
    if resume and done.is_file() and json.loads(done.read_text()).get("key") == key:
        logger.info("%s: this run is finished already (same settings); nothing to do", run)
        info = json.loads(done.read_text())
        return FinetuneResult(run, Path(info["final_dir"]), info["metrics"], skipped=True)

    # ---- every check before any GPU time is spent
    splits, src, tgt = load_parallel_splits(dataset, config, direction)
    tokenizer = AutoTokenizer.from_pretrained(str(model_name))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(model_name))
    langs = _check_tokenizer_languages(tokenizer, model, src, tgt)
    if langs["src"] and hasattr(tokenizer, "src_lang"):
        tokenizer.src_lang = langs["src"]
    if langs["tgt"] and hasattr(tokenizer, "tgt_lang"):
        tokenizer.tgt_lang = langs["tgt"]
    dev_name = next((s for s in ("validation", "dev") if splits.get(s) and splits[s][0]), None)
    test_name = "test" if splits.get("test") and splits["test"][0] else None
    if settings.method == "lora":
        from peft import LoraConfig, TaskType, get_peft_model

        targets = settings.lora_target_modules or LORA_TARGETS.get(langs["family"])
        if not targets:
            raise ConfigError(f"no default LoRA target modules for {type(model).__name__}; set lora_target_modules")
        model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, r=settings.lora_r,
                                                 lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                                                 target_modules=targets))
    run.mkdir(parents=True, exist_ok=True)
    write_json(run / "finetune_config.json", {"model": str(model_name), "dataset": str(dataset), "config": config,
                                              "direction": direction, **settings.to_dict()})

    def encode(sources, targets):
        enc = tokenizer(sources, text_target=targets, truncation=True, max_length=settings.max_source_length)
        enc["labels"] = [ids[: settings.max_target_length] for ids in enc["labels"]]
        return [dict(input_ids=i, attention_mask=a, labels=l)
                for i, a, l in zip(enc["input_ids"], enc["attention_mask"], enc["labels"])]

    train = encode(*splits["train"])
    dev = encode(*splits[dev_name]) if dev_name else None
    lengths = [len(x["input_ids"]) + len(x["labels"]) for x in train]
    bf16 = settings.bf16 == "yes" or (settings.bf16 == "auto" and torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    evaluate_during = dev is not None
    args = Seq2SeqTrainingArguments(
        output_dir=str(run), learning_rate=settings.lr, lr_scheduler_type=settings.lr_scheduler,
        warmup_steps=settings.warmup_ratio,  # transformers 5: a float below 1 is a ratio of the steps
        weight_decay=settings.weight_decay, num_train_epochs=settings.num_epochs,
        max_steps=settings.max_steps, gradient_accumulation_steps=settings.gradient_accumulation,
        eval_strategy="steps" if evaluate_during else "no", eval_steps=settings.eval_steps,
        save_strategy="steps", save_steps=settings.save_steps, save_total_limit=settings.save_total_limit,
        logging_steps=settings.logging_steps, load_best_model_at_end=evaluate_during,
        metric_for_best_model=f"eval_{settings.metric_for_best}" if evaluate_during else None,
        greater_is_better=settings.metric_for_best != "loss", predict_with_generate=True,
        generation_max_length=settings.eval_max_length, generation_num_beams=settings.eval_beam, bf16=bf16,
        seed=settings.seed, data_seed=settings.seed, report_to=settings.report_to, run_name=settings.run_name,
        disable_tqdm=True, remove_unused_columns=False, per_device_eval_batch_size=16,
    )
    collator = DataCollatorForSeq2Seq(tokenizer, model=model, padding=True)

    def compute_metrics(prediction):
        import numpy as np

        from ..evaluate import score_corpus

        preds = np.where(prediction.predictions < 0, tokenizer.pad_token_id, prediction.predictions)
        hyps = [t.strip() for t in tokenizer.batch_decode(preds, skip_special_tokens=True)]
        refs = splits[dev_name][1]
        scores = score_corpus(hyps, refs, tgt_lang=tgt, metrics=("bleu", "chrf"))
        return {"bleu": scores["bleu"].score, "chrf": scores["chrf"].score}

    class BudgetTrainer(Seq2SeqTrainer):
        def get_train_dataloader(self):
            from torch.utils.data import DataLoader

            sampler = TokenBudgetBatchSampler(lengths, max_tokens=settings.batch_max_tokens, seed=settings.seed)
            loader = DataLoader(train, batch_sampler=sampler, collate_fn=collator)
            return self.accelerator.prepare(loader)

    callbacks = []
    if evaluate_during and settings.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=settings.early_stopping_patience))
    if stop_after_steps:  # used by the tests to simulate a killed run
        class Kill(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if state.global_step >= stop_after_steps:
                    raise KeyboardInterrupt(f"stopped after step {state.global_step}")
        callbacks.append(Kill())
    trainer = BudgetTrainer(model=model, args=args, train_dataset=train, eval_dataset=dev, data_collator=collator,
                            processing_class=tokenizer, compute_metrics=compute_metrics if evaluate_during else None,
                            callbacks=callbacks)
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(run)) if resume and run.is_dir() else None
    if last:
        logger.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)

    final = run / "final"
    if settings.method == "lora":
        trainer.model.save_pretrained(final / "adapter")
        if settings.merge_lora:
            merged = trainer.model.merge_and_unload()
            merged.save_pretrained(final / "merged")
            tokenizer.save_pretrained(final / "merged")
            final_model = final / "merged"
        else:
            final_model = final / "adapter"
        tokenizer.save_pretrained(final / "adapter")
    else:
        trainer.save_model(str(final))
        final_model = final
    metrics = {"train_loss": trainer.state.log_history[-1].get("train_loss") if trainer.state.log_history else None,
               "steps": trainer.state.global_step}
    results = None
    eval_split = test_name or dev_name
    if eval_split:
        from ..evaluate import score_corpus
        from ..translate import Translator

        translator = Translator(final_model, backend="mtkit", src_lang=src, tgt_lang=tgt)
        hyps = translator.translate(splits[eval_split][0], beam_size=settings.eval_beam, max_length=settings.eval_max_length)
        results = score_corpus(hyps, splits[eval_split][1], tgt_lang=tgt)
        metrics["eval_split"] = eval_split
        metrics.update({name: round(s.score, 4) for name, s in results.items()})
    if results is not None:
        from ..evaluate.card import write_model_card

        name = settings.run_name or run.name
        card_kwargs = dict(model_name=name, base_model=str(model_name), languages=[src, tgt], dataset=str(dataset),
                           dataset_config=config, split=eval_split, results=results,
                           training={"method": settings.method, "learning_rate": settings.lr,
                                     "steps": trainer.state.global_step, "batch_max_tokens": settings.batch_max_tokens})
        write_model_card(run / "README.md", **card_kwargs)
        if model_cards_dir:
            write_model_card(Path(model_cards_dir) / f"{name}.md", **card_kwargs)
    write_json(done, {"key": key, "final_dir": str(final_model), "metrics": metrics})
    return FinetuneResult(run, final_model, metrics, resumed_from=last)
