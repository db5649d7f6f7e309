#!/usr/bin/env bash
# Fine-tune on a GPU machine. One GPU:
#   scripts/train_gpu.sh Helsinki-NLP/opus-mt-zh-en build/mps en-zh "zh->en" runs/opus-zh-en [configs/finetune/opus-mt-full.yaml]
# Several GPUs on one machine (same settings, data-parallel through accelerate):
#   NUM_GPUS=4 scripts/train_gpu.sh ...
set -euo pipefail
model="$1"; dataset="$2"; config="$3"; direction="$4"; out="$5"; settings="${6:-configs/finetune/opus-mt-full.yaml}"
args=(finetune --model "$model" --dataset "$dataset" --config "$config" --direction "$direction" --out "$out"
      --finetune-config "$settings")
if [[ "${NUM_GPUS:-1}" -gt 1 ]]; then
  exec accelerate launch --num_processes "$NUM_GPUS" -m mtkit.cli "${args[@]}"
fi
exec mtkit "${args[@]}"
