#!/usr/bin/env bash
# Doc-comment lines (/// and //!) as a share of all lines, per file and in
# total, for a crate's src/ (default: core/src).
set -euo pipefail
dir="${1:-core/src}"
find "$dir" -name '*.rs' | sort | while read -r f; do
  total=$(wc -l <"$f")
  docs=$(grep -cE '^\s*(///|//!)' "$f" || true)
  printf '%5d %5d %5.1f%% %s\n' "$docs" "$total" "$(echo "100*$docs/$total" | bc -l)" "$f"
done | sort -k3 -n
total=$(find "$dir" -name '*.rs' -exec cat {} + | wc -l)
docs=$(find "$dir" -name '*.rs' -exec cat {} + | grep -cE '^\s*(///|//!)' || true)
printf 'total: %d doc lines of %d (%.1f%%)\n' "$docs" "$total" "$(echo "100*$docs/$total" | bc -l)"
