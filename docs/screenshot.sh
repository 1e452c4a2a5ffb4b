#!/usr/bin/env bash
# Makes docs/report.png, the README's picture: the first screen (1,400 x 1,000 px) of the report
# of a real run, opened in headless Chromium. docs/screenshot.sh [RUN] (default: a fresh
# ./nas search --run of the README's demo in a scratch folder). Needs /usr/bin/chromium and the
# test build's Playwright driver (dotnet build tests/NasActors.Tests).
set -euo pipefail
cd "$(dirname "$0")/.."
playwright="$(find tests/NasActors.Tests/bin -type d -path '*/.playwright/package' | head -1)"
[[ -n "$playwright" && -x /usr/bin/chromium ]] || { echo "screenshot: build the tests (dotnet build tests/NasActors.Tests) and install chromium first" >&2; exit 1; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
run="${1:-}"
if [[ -z "$run" ]]; then
  run="$dir/demo"
  ./nas search --run "$run" >/dev/null
fi
./nas report --run "$run" --out "$dir/report.html" >/dev/null
"$playwright/../node/linux-x64/node" bench/report-render.js "$(realpath "$playwright")" "file://$dir/report.html" docs/report.png
echo "screenshot: docs/report.png from $run" >&2
