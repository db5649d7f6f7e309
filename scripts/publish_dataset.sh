#!/usr/bin/env bash
# Publish a built dataset folder (README.md card + data/<config>/*.parquet) to the Hugging Face Hub.
#   scripts/publish_dataset.sh ORG/NAME [OUT_DIR] [--private] [--dry-run] [--endpoint URL]
# OUT_DIR defaults to build/mps (what `mtkit build corpora/mps-fraud-2024 --out build/mps` writes).
# The token comes from HF_TOKEN or `hf auth login`; it is never printed. Try --dry-run first.
set -euo pipefail
usage="usage: scripts/publish_dataset.sh ORG/NAME [OUT_DIR] [--private] [--dry-run] [--endpoint URL]"
repo="${1:?$usage}"
shift
out="build/mps"
if [[ $# -gt 0 && "$1" != -* ]]; then  # an optional OUT_DIR before the flags
    out="$1"
    shift
fi
exec mtkit publish "$out" --repo-id "$repo" "$@"
