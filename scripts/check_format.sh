#!/usr/bin/env bash
# Fails when a C++ source tracked by git differs from clang-format's output (.clang-format at the
# root). Prints the files to reformat with `clang-format -i`.
set -euo pipefail
cd "$(dirname "$0")/.."
format="${CLANG_FORMAT:-clang-format}"
bad=0
while IFS= read -r f; do
  if ! "$format" --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    bad=1
  fi
done < <(git ls-files '*.cc' '*.h')
[ "$bad" -eq 0 ] && echo "check_format: all C++ sources formatted"
exit "$bad"
