#!/usr/bin/env bash
# Build the shipped corpus into a publishable dataset folder (the README's first command).
#   scripts/build_corpus.sh [extra `mtkit build` options, e.g. --encoder labse --seed 7 --config build.yaml]
# Options only: a positional argument would be taken as a second corpus directory by mtkit build.
# Output in <repo>/build/mps: README.md (dataset card) + data/<config>/*.parquet (Hub-ready), jsonl/, tsv/, text/, hf/,
# rejects/, report.md/report.json/score_hist.png, build_config.yaml; .cache/ lets an interrupted run resume.
set -euo pipefail
# Paths are taken from the repository root, so the script runs from anywhere and a relative --config still
# means the caller's file.
root="$(cd "$(dirname "$0")/.." && pwd)"
exec mtkit build "$root/corpora/mps-fraud-2024" --out "$root/build/mps" "$@"
