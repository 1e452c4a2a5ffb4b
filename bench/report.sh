#!/usr/bin/env bash
# nas report on a synthetic PPO run of N children (default 20,000): the command's time, the file's
# size, then the time headless Chromium takes to render it (needs /usr/bin/chromium and the test
# build's Playwright driver: dotnet build tests/NasActors.Tests). Prints JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
children="${1:-20000}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
./nas bench search --children "$children" --run "$dir/run" --json >/dev/null
./nas report --run "$dir/run" --out "$dir/warm.html" >/dev/null # builds nas if needed
start=$(date +%s.%N)
./nas report --run "$dir/run" --out "$dir/report.html" >/dev/null
end=$(date +%s.%N)
awk -v n="$children" -v s="$start" -v e="$end" -v b="$(stat -c %s "$dir/report.html")" \
  'BEGIN { printf "{\"children\": %d, \"report_s\": %.2f, \"file_mb\": %.2f}\n", n, e - s, b / 1048576 }'
playwright="$(find tests/NasActors.Tests/bin -type d -path '*/.playwright/package' | head -1)"
if [[ -n "$playwright" && -x /usr/bin/chromium ]]; then
  "$playwright/../node/linux-x64/node" bench/report-render.js "$(realpath "$playwright")" "file://$dir/report.html" "$dir/report.png"
else
  echo '{"render": "skipped: build the tests and install chromium to measure the page"}'
fi
