"""Fine-tuning settings: one dataclass, defaults as class constants, loaded from YAML with unknown keys refused."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..utils import StrictConfig, make_signature

# peft has no default target modules for Marian and M2M100/NLLB: the attention projections and the
# feed-forward layers of every encoder and decoder layer.
LORA_TARGETS = {
    "marian": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
    "m2m100": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
    "mbart": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
    "t5": ["q", "k", "v", "o", "wi", "wo"],
    "mt5": ["q", "k", "v", "o", "wi_0", "wi_1", "wo"],
}


def lora_targets(model, family: str) -> list[str] | None:
    """The default LoRA target modules of ``model``: its family's, where a T5 with a gated feed-forward (T5 v1.1,
    Flan-T5, MADLAD-400, all model_type t5) takes mT5's, whose wi_0/wi_1 it has (with t5's list peft would find no
    wi there and leave the feed-forward input untrained, silently)."""
    if family == "t5" and getattr(getattr(model, "config", None), "is_gated_act", False):
        family = "mt5"
    return LORA_TARGETS.get(family)


@dataclass
class FinetuneConfig(StrictConfig):
    KEY_NAME = "fine-tuning setting"
    METHODS = ("full", "lora")
    METRICS = ("chrf", "bleu", "loss")
    BF16 = ("auto", True, False)  # auto: on a GPU that supports it; never on CPU

    method: str = "full"
    learning_rate: float | None = None  # default: 5e-5 full, 5e-4 LoRA
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    num_epochs: float = 3.0
    max_steps: int = -1
    batch_max_tokens: int = 4096  # padded source+target tokens in one batch
    gradient_accumulation: int = 1
    max_grad_norm: float = 1.0  # gradient clipping; 0 turns it off
    max_source_length: int = 256
    max_target_length: int = 256
    eval_steps: int = 100
    save_steps: int = 100
    save_total_limit: int = 2
    logging_steps: int = 10
    early_stopping_patience: int = 3
    metric_for_best: str = "chrf"
    eval_beam: int = 1
    eval_max_length: int = 128
    eval_batch_size: int = 32
    bf16: str | bool = "auto"
    optim: str = "auto"  # auto: fused AdamW on CUDA, AdamW elsewhere; else a transformers optim name
    torch_compile: bool = False
    seed: int = 13
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list | None = None
    merge_lora: bool = True
    run_name: str | None = None
    report_to: list = field(default_factory=list)

    def validate(self) -> None:
        self._check_types()
        self._check_ranges()
        if self.method not in self.METHODS:
            raise ConfigError(f"method {self.method!r} unknown; known: {', '.join(self.METHODS)}")
        if self.metric_for_best not in self.METRICS:
            raise ConfigError(f"metric_for_best {self.metric_for_best!r} unknown; known: {', '.join(self.METRICS)}")
        if self.bf16 not in self.BF16:
            raise ConfigError(f"bf16 {self.bf16!r} unknown; allowed: auto, true, false")
        if self.batch_max_tokens < 16 or self.gradient_accumulation < 1:
            raise ConfigError("batch_max_tokens must be >= 16 and gradient_accumulation >= 1")

    def check_evaluation(self) -> None:
        """What a run that evaluates a dev split needs besides :meth:`validate`, checked once the dataset's splits
        are known (a run without a dev split never evaluates, and its save_steps need not fit eval_steps)."""
        if self.save_steps % self.eval_steps:
            raise ConfigError(f"save_steps ({self.save_steps}) must be a multiple of eval_steps ({self.eval_steps}): "
                              "the best checkpoint is chosen among evaluated ones")

    # field -> the types a YAML value may have (float fields take ints; bools are never numbers)
    TYPES = {"learning_rate": (float, type(None)), "bf16": (str, bool), "lora_target_modules": (list, type(None)),
             "run_name": (str, type(None)), "report_to": (list, str)}

    def _check_types(self) -> None:
        """ConfigError for a value of the wrong type (``max_steps: ten``), before it fails deep in training.

        PyYAML reads ``5e-4`` (no dot) as a string; a float field takes such a string when it is a number."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            allowed = self.TYPES.get(f.name) or {"float": (float,), "int": (int,), "str": (str,),
                                                  "bool": (bool,)}[f.type]
            if float in allowed and isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    pass
                else:
                    setattr(self, f.name, value)
            if float in allowed and isinstance(value, int) and not isinstance(value, bool):
                continue
            if isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
                names = " or ".join({float: "a number", int: "an integer", str: "a string", bool: "true or false",
                                     list: "a list", type(None): "null"}[t] for t in allowed)
                raise ConfigError(f"{f.name} must be {names}, not {value!r}")
            # YAML's .inf and .nan pass every range check written as a comparison (nan compares false both ways,
            # inf is > 0), and a learning rate of inf trained a NaN model that the run then recorded as done
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number, not {value}")
        for name in ("lora_target_modules", "report_to"):
            if any(not isinstance(v, str) for v in getattr(self, name) or ()):
                raise ConfigError(f"{name} must be a list of names, not {getattr(self, name)!r}")

    def _check_ranges(self) -> None:
        """ConfigError for values no run can use (a negative learning rate, zero steps, an unknown optimizer)."""
        from transformers.trainer_utils import SchedulerType
        from transformers.training_args import OptimizerNames

        if not 0 <= self.seed < 2**32:  # numpy's limits, which the Trainer's set_seed meets after the model loads
            raise ConfigError(f"seed must be >= 0 and < 2**32, not {self.seed}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, not {self.learning_rate}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError(f"max_steps must be -1 (train num_epochs) or > 0, not {self.max_steps}")
        if self.max_steps == -1 and not self.num_epochs > 0:
            raise ConfigError(f"num_epochs must be > 0 when max_steps is -1, not {self.num_epochs}")
        if not 0 <= self.warmup_ratio < 1:  # transformers reads a warmup of 1 or more as a number of steps
            raise ConfigError(f"warmup_ratio must be >= 0 and < 1, not {self.warmup_ratio}")
        for name in ("weight_decay", "max_grad_norm", "early_stopping_patience", "save_total_limit"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, not {getattr(self, name)}")
        for name in ("eval_steps", "save_steps", "logging_steps", "max_source_length", "max_target_length",
                     "eval_beam", "eval_max_length", "eval_batch_size", "lora_r"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, not {getattr(self, name)}")
        if not self.lora_alpha > 0 or not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"lora_alpha must be > 0 and lora_dropout >= 0 and < 1, not {self.lora_alpha} and "
                              f"{self.lora_dropout}")
        if self.lora_target_modules == []:  # `or` would give the defaults: an empty list must not mean all of them
            raise ConfigError("lora_target_modules is empty; leave it out for the model family's defaults")
        self._check_report_to()
        optims = [o.value for o in OptimizerNames]
        if self.optim != "auto" and self.optim not in optims:
            raise ConfigError(f"optim {self.optim!r} unknown; known: auto, {', '.join(optims)}")
        schedulers = [s.value for s in SchedulerType]
        if self.lr_scheduler not in schedulers:
            raise ConfigError(f"lr_scheduler {self.lr_scheduler!r} unknown; known: {', '.join(schedulers)}")

    def _check_report_to(self) -> None:
        """ConfigError for a reporting integration transformers does not have, or whose package is missing here
        (the Trainer raised either one as a traceback once the data and the model had loaded)."""
        from transformers.integrations.integration_utils import (INTEGRATION_TO_CALLBACK,
                                                                 get_available_reporting_integrations)

        names = [self.report_to] if isinstance(self.report_to, str) else self.report_to
        # transformers' own test of what is installed, the list report_to: all gives (it leaves out flyte, and
        # azure_ml beside mlflow, which report_to: all does not use either)
        available = get_available_reporting_integrations()
        for name in names:
            if name in ("all", "none") or name in available:
                continue
            if name not in INTEGRATION_TO_CALLBACK:
                raise ConfigError(f"report_to {name!r} unknown; known: all, none, {', '.join(INTEGRATION_TO_CALLBACK)}")
            raise ConfigError(f"report_to {name!r}: not installed here (installed: {', '.join(available) or 'none'})")

    @classmethod
    def from_saved(cls, saved: dict) -> "FinetuneConfig":
        """The settings a run recorded in its finetune_config.json (beside them: model, dataset, key), not validated
        again: they were when the run started, and a check of this machine (report_to) need not hold here."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in names})

    def card_training(self, *, steps: int, best: str | None) -> dict:
        """The Training table of a run's model card: what finetune writes, and what `mtkit card --model-dir`
        rebuilds from the run's finetune_config.json and the steps and best checkpoint in its done.json."""
        return {"method": self.method, "learning_rate": self.lr, "steps": steps,
                # the weights are the best dev checkpoint's, which may be earlier than the last step
                "weights_from": Path(best).name if best else f"checkpoint-{steps} (last)",
                "batch_max_tokens": self.batch_max_tokens, "gradient_accumulation": self.gradient_accumulation}

    @property
    def lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else (5e-4 if self.method == "lora" else 5e-5)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def signature(self) -> str:
        return make_signature("finetune", **self.to_dict())
