"""Fine-tuning: full or LoRA on transformers' Seq2SeqTrainer with token-budget batches, resumable."""

from .config import LORA_TARGETS, FinetuneConfig
from .data import PairCollator, TokenizedPairs, encode_pairs, load_parallel_splits
from .sampler import TokenBudgetBatchSampler
from .run_folder import model_dir_info
from .trainer import FinetuneResult, build_trainer, finetune, training_arguments

__all__ = ["FinetuneConfig", "FinetuneResult", "LORA_TARGETS", "PairCollator", "TokenBudgetBatchSampler",
           "TokenizedPairs", "build_trainer", "encode_pairs", "finetune", "load_parallel_splits", "model_dir_info",
           "training_arguments"]
