#!/usr/bin/env bash
# Regenerates the key table of docs/CONFIG.md from the binary's configuration tables.
# Usage: scripts/gen-config-doc.sh [build/brook]
set -euo pipefail
BROOK=${1:-build/brook}
doc=docs/CONFIG.md
head=$(sed '/^| key | type |/,$d' "$doc")
{ printf '%s\n' "$head"; "$BROOK" config keys --markdown; } >"$doc.tmp"
mv "$doc.tmp" "$doc"
