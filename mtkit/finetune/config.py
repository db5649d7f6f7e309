"""Fine-tuning settings: one dataclass, defaults as class constants, loaded from YAML with unknown keys refused."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

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
        if self.method not in self.METHODS:
            raise ConfigError(f"method {self.method!r} unknown; known: {', '.join(self.METHODS)}")
        if self.metric_for_best not in self.METRICS:
            raise ConfigError(f"metric_for_best {self.metric_for_best!r} unknown; known: {', '.join(self.METRICS)}")
        if self.bf16 not in self.BF16:
            raise ConfigError(f"bf16 {self.bf16!r} unknown; allowed: auto, true, false")
        if self.save_steps % self.eval_steps:
            raise ConfigError(f"save_steps ({self.save_steps}) must be a multiple of eval_steps ({self.eval_steps}): "
                              "the best checkpoint is chosen among evaluated ones")
        if self.batch_max_tokens < 16 or self.gradient_accumulation < 1:
            raise ConfigError("batch_max_tokens must be >= 16 and gradient_accumulation >= 1")

    @property
    def lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else (5e-4 if self.method == "lora" else 5e-5)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def signature(self) -> str:
        return make_signature("finetune", **self.to_dict())
