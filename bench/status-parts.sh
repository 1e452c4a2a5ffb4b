#!/usr/bin/env bash
# Where nas status spends its time on a large run, step by step, in fresh processes ($2 of them,
# default 5): the snapshot's row, its decoding and the state (cold, then warm), the settings file.
# Usage: bench/status-parts.sh RUN_FOLDER [RUNS]   (a run from: ./nas bench search --children 20000 --workers 8 --run DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
run="$(realpath "$1")"
out=.build/status-parts
dotnet build bench/StatusParts/StatusParts.csproj -c Release -o "$out" -nologo -v quiet >&2
for _ in $(seq "${2:-5}"); do dotnet "$out/StatusParts.dll" "$run"; done
