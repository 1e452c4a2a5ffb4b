#!/usr/bin/env bash
# The controller's cost per child for a 20,000-child search, for each strategy (paper settings).
set -euo pipefail
cd "$(dirname "$0")/.."
for strategy in ppo evolution random; do
  ./nas bench controller --children "${1:-20000}" --strategy "$strategy" --json
done
