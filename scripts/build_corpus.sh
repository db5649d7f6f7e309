#!/usr/bin/env bash
# Build the shipped corpus (or another corpus directory) into a publishable dataset folder.
#   scripts/build_corpus.sh [CORPUS_DIR] [OUT_DIR] [extra `mtkit build` options, e.g. --encoder labse]
# Output: OUT_DIR/README.md (dataset card), data/<config>/*.parquet, jsonl/, tsv/, text/, hf/, report.md.
set -euo pipefail
corpus="${1:-corpora/mps-fraud-2024}"
out="${2:-build/mps}"
shift $(( $# > 2 ? 2 : $# ))
exec mtkit build "$corpus" --out "$out" "$@"
