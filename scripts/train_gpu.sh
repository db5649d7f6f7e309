#!/usr/bin/env bash
# Fine-tune on a GPU machine through `mtkit finetune` (settings in a YAML file, see configs/finetune/).
#
# One GPU:
#   scripts/train_gpu.sh Helsinki-NLP/opus-mt-zh-en build/mps en-zh "zh->en" runs/opus-zh-en [configs/finetune/opus-mt-full.yaml]
# Several GPUs on one machine, the same settings, data-parallel through accelerate (each GPU takes every Nth
# token-budget batch, so the effective batch is N x batch_max_tokens x gradient_accumulation):
#   NUM_GPUS=4 scripts/train_gpu.sh ...
# torchrun works the same way:  torchrun --nproc_per_node 4 -m mtkit.cli finetune ...
#
# Killing the run and starting the same command again resumes from the last checkpoint in RUN_DIR with the same
# data order; a finished run is not redone. bf16 and fused AdamW are used where the GPU has them.
# Throughput against a plain Seq2SeqTrainer: python bench/train_speed.py (results in bench/RESULTS.md).
set -euo pipefail
if [[ $# -lt 5 ]]; then
  sed -n '2,12p' "$0"; exit 2
fi
model="$1"; dataset="$2"; config="$3"; direction="$4"; out="$5"; settings="${6:-configs/finetune/opus-mt-full.yaml}"
args=(finetune --model "$model" --dataset "$dataset" --config "$config" --direction "$direction" --out "$out"
      --finetune-config "$settings")
if [[ "${NUM_GPUS:-1}" -gt 1 ]]; then
  exec accelerate launch --num_processes "$NUM_GPUS" -m mtkit.cli "${args[@]}"
fi
exec mtkit "${args[@]}"
