"""Fine-tuning seq2seq translation models on a built corpus: full or LoRA, on transformers' Seq2SeqTrainer.

Everything that can be wrong with the inputs is checked before any training step. Multi-GPU: run the same
command under ``accelerate launch`` or ``torchrun``; the Trainer and accelerate do the distribution.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..corpus.dataset import ParallelSplit, parse_direction
from ..errors import ConfigError
from ..utils import absolute_if_local, changed_keys, stable_hash, write_json
from .config import LORA_TARGETS, FinetuneConfig, lora_targets
from .data import PairCollator, TokenizedPairs, encode_pairs, load_parallel_splits
from .sampler import TokenBudgetBatchSampler

logger = logging.getLogger("mtkit.finetune")
DONE = "done.json"


@dataclass(slots=True)
class FinetuneResult:
    run_dir: Path
    final_dir: Path
    metrics: dict
    resumed_from: str | None = None
    skipped: bool = False
    main_process: bool = True  # False in the other processes of a multi-process launch, which report nothing


def training_arguments(settings: FinetuneConfig, run_dir: str | Path, *, evaluate: bool):
    """Seq2SeqTrainingArguments from the settings: bf16, tf32 and fused AdamW where a GPU has them, fp32 on CPU.

    No per-step host sync that the Trainer can do without: the NaN/inf filter of the logged loss (which reads the
    loss every step) is off, so a NaN loss shows as NaN in the log; batches are pinned and copied without blocking.
    """
    import torch
    from transformers import Seq2SeqTrainingArguments

    cuda = torch.cuda.is_available()
    bf16 = settings.bf16 is True or (settings.bf16 == "auto" and cuda and torch.cuda.is_bf16_supported())
    optim = settings.optim if settings.optim != "auto" else ("adamw_torch_fused" if cuda else "adamw_torch")
    tf32 = cuda and torch.cuda.get_device_capability()[0] >= 8
    # accelerate makes a multi-process launch data-parallel on CPU (gloo) only when told it runs on CPU; without
    # this, each `torchrun` process on a machine without GPUs trains alone on all the data
    cpu_processes = not cuda and int(os.environ.get("WORLD_SIZE", "1")) > 1
    return Seq2SeqTrainingArguments(
        use_cpu=cpu_processes,
        output_dir=str(run_dir), learning_rate=settings.lr, lr_scheduler_type=settings.lr_scheduler,
        warmup_steps=settings.warmup_ratio,  # transformers 5: a float below 1 is a ratio of the total steps
        weight_decay=settings.weight_decay, num_train_epochs=settings.num_epochs, max_steps=settings.max_steps,
        gradient_accumulation_steps=settings.gradient_accumulation, max_grad_norm=settings.max_grad_norm,
        optim=optim, bf16=bf16, tf32=tf32 or None,
        torch_compile=settings.torch_compile,
        eval_strategy="steps" if evaluate else "no", eval_steps=settings.eval_steps,
        save_strategy="steps", save_steps=settings.save_steps, save_total_limit=settings.save_total_limit,
        logging_steps=settings.logging_steps, logging_nan_inf_filter=False, load_best_model_at_end=evaluate,
        metric_for_best_model=f"eval_{settings.metric_for_best}" if evaluate else None,
        greater_is_better=settings.metric_for_best != "loss", predict_with_generate=True,
        generation_max_length=settings.eval_max_length, generation_num_beams=settings.eval_beam,
        seed=settings.seed, data_seed=settings.seed, report_to=settings.report_to, run_name=settings.run_name,
        disable_tqdm=True, remove_unused_columns=False, per_device_eval_batch_size=settings.eval_batch_size,
        dataloader_pin_memory=cuda, accelerator_config={"non_blocking": cuda},
    )


def build_trainer(model, tokenizer, train: list[dict], *, settings: FinetuneConfig, run_dir: str | Path,
                  dev: list[dict] | None = None, compute_metrics=None, callbacks=()):
    """A Seq2SeqTrainer whose training batches come from the token-budget sampler (also used by the bench).

    The training features are kept as flat arrays (:class:`TokenizedPairs`) and padded by :class:`PairCollator`
    (the batches of ``DataCollatorForSeq2Seq``, without its per-pair Python); the loss is computed from the
    logits in their own dtype where the model family allows it (:func:`seq2seq_loss`).
    """
    from transformers import DataCollatorForSeq2Seq, EarlyStoppingCallback, PrinterCallback, Seq2SeqTrainer

    from .loss import lean_loss_parts, logits_loss, seq2seq_loss

    pairs = train if isinstance(train, TokenizedPairs) else TokenizedPairs(train)
    lean_loss = lean_loss_parts(model) is not None
    samplers: list[TokenBudgetBatchSampler] = []  # the training loader's, for the epoch callback

    class BudgetTrainer(Seq2SeqTrainer):
        train_collator = PairCollator.for_model(tokenizer, model)  # training batches; the dev set's: data_collator

        def get_train_dataloader(self):
            from torch.utils.data import DataLoader

            sampler = TokenBudgetBatchSampler(pairs.src_len, pairs.tgt_len, max_tokens=settings.batch_max_tokens,
                                              seed=settings.seed)
            samplers[:] = [sampler]
            workers = self.args.dataloader_num_workers
            loader = DataLoader(pairs, batch_sampler=sampler, collate_fn=self.train_collator, num_workers=workers,
                                pin_memory=self.args.dataloader_pin_memory, persistent_workers=workers > 0)
            return self.accelerator.prepare(loader)

        def train(self, *args, **kwargs):
            import torch

            from ..utils import attention_without_cudnn

            with attention_without_cudnn("cuda" if torch.cuda.is_available() else "cpu"):
                return super().train(*args, **kwargs)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            # transformers' translation models take **kwargs, so the Trainer counts on their loss being divided by
            # num_items_in_batch (the label tokens of a whole optimizer step, all processes) and neither divides it
            # by the accumulation steps nor averages it over processes; their forward takes the mean over its own
            # micro-batch, which multiplies the gradient and the logged loss by both (2 steps: 1.99x, measured).
            # The loss here honours num_items_in_batch whenever the Trainer passes it.
            if (return_outputs or "labels" not in inputs or self.label_smoother is not None
                    or self.compute_loss_func is not None):
                return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                            num_items_in_batch=num_items_in_batch)
            unwrapped = self.accelerator.unwrap_model(model)
            if lean_loss and unwrapped is model:
                # the lean loss calls the model's parts, so not through a DDP/FSDP or compile wrapper (whose
                # forward does the gradient sync); there the wrapper's forward gives the logits
                def loss_only(num_items_in_batch=None, **batch):
                    with self.accelerator.autocast():  # what accelerate wraps the model's forward in
                        return {"loss": seq2seq_loss(model, batch, num_items_in_batch)}
            else:
                def loss_only(num_items_in_batch=None, **batch):
                    return {"loss": logits_loss(model, batch, num_items_in_batch, unwrapped=unwrapped)}

            return super().compute_loss(loss_only, inputs, num_items_in_batch=num_items_in_batch)

        def floating_point_ops(self, inputs):  # the Trainer's count, without walking the model every step
            if not hasattr(self, "_flops_per_token"):
                self._flops_per_token = 6 * self.model.num_parameters(exclude_embeddings=True) \
                    if hasattr(self.model, "num_parameters") else 0
            ids = inputs.get("input_ids")
            return self._flops_per_token * ids.numel() if ids is not None else 0

    callbacks = [_epoch_to_sampler_callback(samplers), _log_callback(), *callbacks]
    if dev is not None:
        callbacks.append(_save_new_best_callback())
    if dev is not None and settings.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=settings.early_stopping_patience))
    trainer = BudgetTrainer(model=model, args=training_arguments(settings, run_dir, evaluate=dev is not None),
                            train_dataset=pairs, eval_dataset=dev,
                            data_collator=DataCollatorForSeq2Seq(tokenizer, model=model, padding=True),
                            processing_class=tokenizer, compute_metrics=compute_metrics, callbacks=callbacks)
    # with disable_tqdm the Trainer adds PrinterCallback, which print()s every log to stdout: the logs go to the
    # mtkit.finetune logger instead (_log_callback)
    trainer.remove_callback(PrinterCallback)
    return trainer


def _log_callback():
    from transformers import TrainerCallback

    class LogToLogger(TrainerCallback):
        """The Trainer's logs (training loss, learning rate, dev scores) as INFO records of ``mtkit.finetune``,
        from the main process, in place of transformers' PrinterCallback: library code does not print."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or not state.is_world_process_zero:
                return
            values = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in logs.items() if k != "total_flos")
            logger.info("step %d: %s", state.global_step, values)

    return LogToLogger()


def _epoch_to_sampler_callback(samplers: list[TokenBudgetBatchSampler]):
    from transformers import TrainerCallback

    class EpochToSampler(TrainerCallback):
        """Give the token-budget sampler the epoch before the Trainer iterates it.

        The Trainer sets the epoch on the loader and on the batch sampler one level below it. Under several
        processes that level is accelerate's ``BatchSamplerShard`` (no ``set_epoch``) around ours, which the
        Trainer reaches only by its explicit call; a resumed run's first epoch adds ``SkipBatchSampler`` on top, so
        nothing reached ours, and a run resumed in epoch 3 skipped and trained on epoch 0's batches (weights 0.01
        off an uninterrupted run). ``state.epoch`` at an epoch's start is the epochs done (resumed: plus the
        fraction done, which ``int`` drops), the epoch the Trainer is about to run.
        """

        def on_epoch_begin(self, args, state, control, **kwargs):
            for sampler in samplers:
                sampler.set_epoch(int(state.epoch or 0))

    return EpochToSampler()


def _save_new_best_callback():
    from transformers import TrainerCallback

    class SaveNewBest(TrainerCallback):
        """Save at an evaluation that beats the best so far, also between ``save_steps``.

        ``load_best_model_at_end`` can only load a saved checkpoint: with ``eval_steps`` below ``save_steps``, a
        best evaluation between two saves was never saved, and the final model was then the last or an older,
        worse checkpoint. Runs before the Trainer records the new best (on_evaluate), so compares with it here.
        """

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            value = (metrics or {}).get(args.metric_for_best_model)
            if value is None or not args.load_best_model_at_end:
                return
            best = state.best_metric
            if best is None or (value > best if args.greater_is_better else value < best):
                control.should_save = True

    return SaveNewBest()


def _load_model(model_name) -> tuple:
    """The tokenizer and the model, loaded as the Translator loads them: a missing local folder is said to be one
    (not a Hub error about repo ids), and a LoRA adapter folder (a LoRA run's ``final/adapter``) is merged into
    its base. Loaded by transformers as an adapter, its base stayed frozen: full fine-tuning failed at the first
    step (no gradient), and a new LoRA recorded the raw base as its own, without the adapter it started from."""
    from ..translate import load_pretrained
    from ..utils import is_lora_adapter

    path, tokenizer, model = load_pretrained(str(model_name))  # path: ~ expanded
    if is_lora_adapter(path):
        # peft records the model's name_or_path as a new adapter's base: the adapter this run starts from (which
        # load_seq2seq merges into its own base again), not that adapter's base; resolved, so that the new
        # adapter loads from any working directory ('~/a' or 'runs/a/final/adapter' did from one only)
        model.name_or_path = str(Path(path).resolve())
        model.requires_grad_(True)  # peft froze the base to train the adapter; merged, all of it is trainable
    return tokenizer, model


def _check_lengths(model, family: str, settings: FinetuneConfig) -> None:
    """max_source_length/max_target_length past the model's position table: a ConfigError now, not an IndexError
    at whichever training step draws a pair that long (after finetune_config.json is written)."""
    from ..translate.languages import position_limit

    limit = position_limit(model, family)
    for name in ("max_source_length", "max_target_length"):
        if limit and getattr(settings, name) > limit:
            raise ConfigError(f"{name} {getattr(settings, name)} is over the model's {limit} positions "
                              f"(max_position_embeddings); set {name}: {limit} or less")


def _warn_of_another_pair(tokenizer, src: str, tgt: str) -> None:
    """A Marian model translates one pair, which its tokenizer may declare (source_lang/target_lang, zh or zho).
    Training it for another pair is legitimate (retargeting a model) but is more often the wrong --model or
    --direction: a warning. Codes that are no single language (mul, ROMANCE of multi-language models) are not
    compared. The tokenizer then declares the pair trained, which the saved model is for (the Translator warns
    of a pair the tokenizer contradicts, the run's own final scoring included)."""
    from ..translate.languages import marian_pair_conflicts

    conflicts = marian_pair_conflicts(tokenizer, src, tgt)
    if conflicts:
        logger.warning("the model's tokenizer declares the pair %s->%s and this run trains %s->%s: right if the "
                       "model is meant to learn another pair, else check --model and --direction",
                       tokenizer.source_lang, tokenizer.target_lang, src, tgt)
        for attr, lang in conflicts.items():
            setattr(tokenizer, attr, lang)


def _prepare_languages(tokenizer, model, src: str, tgt: str) -> tuple[str, str]:
    """Set the tokenizer's language codes (a ConfigError lists the known ones if it lacks one); the family and the
    prefix of every source text (T5/MADLAD's ``<2xx> `` target token, what :class:`~mtkit.translate.Translator`
    puts before its inputs; empty for the others)."""
    from ..translate.languages import language_code_for, model_family, source_prefix

    family = model_family(model)
    if family == "marian":
        _warn_of_another_pair(tokenizer, src, tgt)
    src_code = language_code_for(tokenizer, src, family)
    tgt_code = language_code_for(tokenizer, tgt, family, target=True)  # a multi-target Marian's >>xxx<< too
    if src_code and hasattr(tokenizer, "src_lang"):
        tokenizer.src_lang = src_code
    if tgt_code and hasattr(tokenizer, "tgt_lang"):
        tokenizer.tgt_lang = tgt_code
        # dev generation during training must start with the target language, as the labels do
        model.generation_config.forced_bos_token_id = tokenizer.convert_tokens_to_ids(
            tokenizer.get_lang_token(tgt_code) if hasattr(tokenizer, "get_lang_token") else tgt_code)
    return family, source_prefix(family, tgt_code)


def _with_lora(model, family: str, settings: FinetuneConfig):
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    targets = settings.lora_target_modules or lora_targets(model, family)
    if not targets:
        raise ConfigError(f"no default LoRA target modules for {type(model).__name__} ({family}); "
                          f"set lora_target_modules (defaults exist for: {', '.join(LORA_TARGETS)})")
    # peft's rule for a list of names: a module's whole name or its last parts. peft raises only when none
    # matches (as a traceback), and leaves a name that matches nothing untrained without a word
    names = [name for name, _ in model.named_modules()]
    unmatched = [t for t in targets if not any(name == t or name.endswith("." + t) for name in names)]
    if unmatched:
        linear = sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                         if isinstance(module, torch.nn.Linear)})
        raise ConfigError(f"LoRA target module(s) {', '.join(unmatched)} match no module of {type(model).__name__}; "
                          f"its linear layers: {', '.join(linear)} (set lora_target_modules from these)")
    return get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, r=settings.lora_r,
                                            lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                                            target_modules=targets))


def _check_bf16(settings: FinetuneConfig) -> None:
    """``bf16: true`` needs a CUDA GPU that has bf16 (the Trainer refuses it elsewhere, after the data is loaded)."""
    import torch

    if settings.bf16 is True and not (torch.cuda.is_available() and torch.cuda.is_bf16_supported()):
        raise ConfigError("bf16: true needs a CUDA GPU with bf16 support, and there is none here; "
                          "use bf16: auto (bf16 where a GPU has it) or false")


def _last_complete_checkpoint(run: Path) -> tuple[str | None, list[Path]]:
    """The run's last checkpoint that was written in full, and the checkpoint folders that were not.

    The Trainer writes ``trainer_state.json`` last; a run killed while saving leaves a folder without it (or with
    it cut short), which transformers' ``get_last_checkpoint`` would still pick and the resume would fail on.
    """
    complete, incomplete = [], []
    for path in run.glob("checkpoint-*") if run.is_dir() else ():
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if not match or not path.is_dir():
            continue
        try:
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            incomplete.append(path)
        else:
            complete.append((int(match[1]), path))
    return (str(max(complete)[1]) if complete else None), sorted(incomplete)


def _check_dependencies(settings: FinetuneConfig) -> None:
    """transformers' Trainer needs accelerate and LoRA needs peft: say so before anything else runs."""
    import importlib.util

    from ..errors import missing_dependency

    for package, needed in (("accelerate", True), ("peft", settings.method == "lora")):
        if needed and importlib.util.find_spec(package) is None:
            raise missing_dependency(package, "finetune")


def finetune(model_name: str | Path, dataset: str | Path, *, config_name: str, direction: str, out_dir: str | Path,
             settings: FinetuneConfig | None = None, resume: bool = True,
             model_cards_dir: str | Path | None = "model_cards", stop_after_steps: int | None = None) -> FinetuneResult:
    """Fine-tune ``model_name`` on ``dataset``'s config ``config_name`` (a language pair, ``en-zh``) in
    ``direction`` (``zh->en``) into ``out_dir``, with ``settings`` (default: ``FinetuneConfig()``).

    ``resume``: continue from the last checkpoint in ``out_dir``, and return at once if the run finished with
    the same settings. ``stop_after_steps`` raises KeyboardInterrupt after that checkpoint (a killed run, for tests).
    Training logs (loss, dev scores) are INFO records of the ``mtkit.finetune`` logger; nothing is printed.
    """
    from transformers import TrainerCallback
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    parse_direction(direction, config_name)  # a config_name or direction of the wrong type or form, first
    if settings is not None and not isinstance(settings, FinetuneConfig):
        hint = " (FinetuneConfig.from_dict builds one from a dict)" if isinstance(settings, dict) else ""
        raise ConfigError(f"settings must be a FinetuneConfig, not {type(settings).__name__}{hint}")
    settings = settings or FinetuneConfig()
    settings.validate()
    _check_dependencies(settings)
    _check_bf16(settings)
    run = Path(out_dir)
    # finetune_config.json's key stays "config", as runs have recorded it (mtkit card reads the file)
    # local paths resolved (models/x/, ./models/x and /abs/models/x are one input, and a resume from another
    # directory finds its run), hub names as given
    record = {"model": absolute_if_local(model_name), "dataset": absolute_if_local(dataset), "config": config_name,
              "direction": direction, **settings.to_dict()}

    def run_key(model: str, data: str) -> str:
        return stable_hash(model, data, config_name, direction, settings.to_dict())

    key = run_key(record["model"], record["dataset"])
    # the key before local paths were resolved (runs recorded by an earlier mtkit): the same command still
    # resumes or skips them
    keys = {key, run_key(str(model_name), str(dataset))}
    done = run / DONE
    info = json.loads(done.read_text()) if resume and done.is_file() else {}
    if info.get("key") in keys and (run / info["final_dir"]).is_dir():
        logger.info("%s: finished already with these settings; nothing to do", run)
        return FinetuneResult(run, run / info["final_dir"], info["metrics"], skipped=True)
    saved = run / "finetune_config.json"
    _check_run_folder(run, saved, record, keys, resume)

    # every check before any training step: config, direction, empty train split, settings, language codes
    splits = load_parallel_splits(dataset, config_name, direction)
    src, tgt = splits["train"].src_lang, splits["train"].tgt_lang
    dev_name = next((s for s in ("validation", "dev") if s in splits and len(splits[s])), None)
    test_name = "test" if "test" in splits and len(splits["test"]) else None
    if dev_name:
        settings.check_evaluation()
    else:
        logger.warning("%s (%s) has no dev split: no evaluation during training, the last checkpoint is kept",
                       dataset, config_name)
    if not dev_name and not test_name:
        logger.warning("%s (%s) has no dev or test split: no final evaluation and no model card", dataset,
                       config_name)
    tokenizer, model = _load_model(model_name)
    family, source_prefix = _prepare_languages(tokenizer, model, src, tgt)
    _check_lengths(model, family, settings)
    if settings.method == "lora":
        model = _with_lora(model, family, settings)
    run.mkdir(parents=True, exist_ok=True)

    lengths = dict(max_source_length=settings.max_source_length, max_target_length=settings.max_target_length)

    def encode(split: ParallelSplit):  # T5/MADLAD sources start with the target's <2xx> token, as the Translator
        sources = [source_prefix + s for s in split.sources] if source_prefix else split.sources
        return encode_pairs(tokenizer, sources, split.targets, **lengths)

    train = encode(splits["train"])
    dev = encode(splits[dev_name]) if dev_name else None

    def compute_metrics(prediction):
        import numpy as np

        from ..evaluate import score_corpus

        references = splits[dev_name].targets
        # Seq2SeqTrainer gathers with accelerator.gather, not gather_for_metrics (transformers PR #27025), so under
        # several processes the rows past the dev set are the copies that accelerate's even batches add; the first
        # rows are the dev set in order, which the labels that came back with them prove
        predictions = prediction.predictions[:len(references)]
        _check_label_order(prediction.label_ids[:len(references)], dev, tokenizer.pad_token_id)
        preds = np.where(predictions < 0, tokenizer.pad_token_id, predictions)
        hyps = [t.strip() for t in tokenizer.batch_decode(preds, skip_special_tokens=True)]
        scores = score_corpus(hyps, references, tgt_lang=tgt, metrics=("bleu", "chrf"))
        return {"bleu": scores["bleu"].score, "chrf": scores["chrf"].score}

    callbacks = []
    if stop_after_steps:
        class Kill(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if state.global_step >= stop_after_steps:
                    raise KeyboardInterrupt(f"stopped after step {state.global_step}")
        callbacks.append(Kill())
    trainer = build_trainer(model, tokenizer, train, settings=settings, run_dir=run, dev=dev,
                            compute_metrics=compute_metrics if dev else None, callbacks=callbacks)
    main = trainer.is_world_process_zero()  # one process writes files, evaluates and writes the card
    if main:
        write_json(saved, {**record, "key": key})
    # a checkpoint cut short by a kill cannot be resumed from; --no-resume: no other start's checkpoint may stay
    # (a kill before this start's first save would resume from it)
    if resume:
        last, stale = _last_complete_checkpoint(run)
        why = "written only in part"
    else:
        last, stale, why = None, sorted(run.glob(f"{PREFIX_CHECKPOINT_DIR}-*")), "--no-resume"
    if main:
        for path in stale:
            logger.warning("removing %s (%s)", path, why)
            shutil.rmtree(path, ignore_errors=True)
        if not resume:  # nothing of the earlier run may pass for this one's (evaluate RUN/final scored it)
            shutil.rmtree(run / "final", ignore_errors=True)
            for name in (DONE, "README.md"):
                (run / name).unlink(missing_ok=True)
    if last:
        logger.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)

    final_model = _save_final(trainer, tokenizer, run / "final", settings, main=main)
    metrics = {"train_loss": _run_train_loss(trainer.state), "steps": trainer.state.global_step,
               "best_checkpoint": trainer.state.best_model_checkpoint}
    eval_split = test_name or dev_name
    if eval_split and main:
        results = _evaluate_final(final_model, splits[eval_split], src, tgt, settings)
        metrics["eval_split"] = eval_split
        metrics.update({name: round(s.score, 4) for name, s in results.items()})
        _write_cards(run, model_cards_dir, settings, model_name=model_name, dataset=dataset, config_name=config_name,
                     src=src, tgt=tgt, split=eval_split, results=results, steps=trainer.state.global_step,
                     best=trainer.state.best_model_checkpoint)
    if main:  # final_dir relative to the run: the check above holds from any working directory and after a move
        write_json(done, {"key": key, "final_dir": str(final_model.relative_to(run)), "metrics": metrics})
    return FinetuneResult(run, final_model, metrics, resumed_from=last, main_process=main)


def _check_run_folder(run: Path, saved: Path, record: dict, keys: set[str], resume: bool) -> None:
    """Refuse an output folder that would mix this run with something else: another run's settings (resuming
    its checkpoints would train on two settings), or files that are not a run's at all (the Trainer's
    checkpoint rotation deletes ``checkpoint-*`` folders, and the card overwrites ``README.md``)."""
    if saved.is_file():
        previous = json.loads(saved.read_text(encoding="utf-8"))
        if resume and previous.get("key") not in keys:
            changed = [f"{name} {previous.get(name)!r} -> {record.get(name)!r}"
                       for name in changed_keys({k: v for k, v in previous.items() if k != "key"}, record)]
            raise ConfigError(f"{run} holds a run with other settings ({'; '.join(changed) or 'see ' + str(saved)}); "
                              "use another --out, or --no-resume to start over (removes its checkpoints)")
    elif run.is_dir() and any(run.iterdir()):
        names = sorted(p.name for p in run.iterdir())
        raise ConfigError(f"{run} is not empty and holds no fine-tuning run (no {saved.name}; it holds "
                          f"{', '.join(names[:5])}{', ...' if len(names) > 5 else ''}): give a new or empty folder")


def _check_label_order(label_ids, dev: list[dict], pad_id: int) -> None:
    """Raise if the gathered label rows are not the dev set's labels in order (scores would pair wrong sentences)."""
    if len(label_ids) != len(dev):
        raise RuntimeError(f"evaluation returned {len(label_ids)} rows for {len(dev)} dev pairs")
    for i, (row, feature) in enumerate(zip(label_ids.tolist(), dev)):
        tokens = [t for t in row if t not in (-100, pad_id)]
        if tokens != [t for t in feature["labels"] if t != pad_id]:
            raise RuntimeError(f"evaluation returned dev pair {i}'s predictions out of order")


def _save_final(trainer, tokenizer, final: Path, settings: FinetuneConfig, *, main: bool = True) -> Path:
    """The best (or last) model: full weights, or the LoRA adapter alone plus, if asked, the merged model.

    Every process calls ``save_model`` (FSDP and DeepSpeed gather the weights there; it writes from one process);
    the adapter and the merged model are written by the main process alone.
    """
    if settings.method != "lora":
        trainer.save_model(str(final))
        return final
    target = final / ("merged" if settings.merge_lora else "adapter")
    if not main:
        return target
    trainer.model.save_pretrained(final / "adapter")
    tokenizer.save_pretrained(final / "adapter")
    if not settings.merge_lora:
        return target
    merged = trainer.model.merge_and_unload()
    merged.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def _evaluate_final(model_dir: Path, split: ParallelSplit, src: str, tgt: str, settings: FinetuneConfig) -> dict:
    """Scores of the final model (an unmerged LoRA adapter too: the Translator merges it into its base) on ``split``."""
    from ..evaluate import score_corpus
    from ..translate import Translator

    translator = Translator(model_dir, backend="mtkit", src_lang=src, tgt_lang=tgt)
    hyps = translator.translate(split.sources, beam_size=settings.eval_beam, max_length=settings.eval_max_length)
    return score_corpus(hyps, split.targets, tgt_lang=tgt)


def _run_train_loss(state) -> float | None:
    """The mean training loss of the whole run, the steps before a resume included (the Trainer's ``train_loss``
    averages the steps of the last start only: 0.13 against 0.55 uninterrupted, for the same weights). From the
    logged losses, each weighted by the steps it covers; the Trainer's own figure when nothing was logged."""
    total = covered = 0.0
    for entry in state.log_history:
        if "loss" in entry and "step" in entry:
            total += float(entry["loss"]) * (entry["step"] - covered)
            covered = entry["step"]
    if covered:
        return total / covered
    return next((e["train_loss"] for e in reversed(state.log_history) if "train_loss" in e), None)


def _write_cards(run: Path, cards_dir, settings: FinetuneConfig, *, model_name, dataset, config_name, src, tgt,
                 split, results, steps, best=None) -> None:
    from ..evaluate.card import write_model_card

    name = settings.run_name or run.resolve().name  # `--out .` is the folder it names, not ""
    card = dict(model_name=name, base_model=str(model_name), languages=[src, tgt], dataset=str(dataset),
                training_dataset=str(dataset),
                dataset_config=config_name, split=split, results=results,
                training=settings.card_training(steps=steps, best=best),
                decoding={"beam_size": settings.eval_beam, "max_length": settings.eval_max_length})
    write_model_card(run / "README.md", **card)
    if cards_dir:
        write_model_card(Path(cards_dir) / f"{name}.md", **card)
