#!/usr/bin/env bash
# Lints the golden postmortems with the pinned markdownlint-cli2 and the
# settings in .markdownlint-cli2.yaml beside this script. CI calls it; it
# exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")"
exec npx --yes markdownlint-cli2@0.22.1
