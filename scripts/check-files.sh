#!/usr/bin/env bash
# Fails when a tracked file is over 1 MB, other than the embedded echarts
# bundle and the docs' screenshots: built binaries and data directories do not
# belong in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r -d '' f; do
  [[ -f $f ]] || continue
  case $f in
    ui/assets/echarts/echarts.min.js | docs/*.png) continue ;;
  esac
  size=$(stat -c %s "$f")
  if ((size > 1000000)); then
    echo "check-files: $f is $size bytes (over 1 MB): built binaries and data do not belong in the repository" >&2
    status=1
  fi
done < <(git ls-files -z)
exit $status
