#!/usr/bin/env bash
# Publish a built dataset folder to the Hugging Face Hub (token from HF_TOKEN or `hf auth login`).
#   scripts/publish_dataset.sh ORG/NAME [OUT_DIR] [--private] [--dry-run]
set -euo pipefail
repo="${1:?usage: scripts/publish_dataset.sh ORG/NAME [OUT_DIR] [--private] [--dry-run]}"
out="${2:-build/mps}"
shift $(( $# > 2 ? 2 : $# ))
exec mtkit publish "$out" --repo-id "$repo" "$@"
