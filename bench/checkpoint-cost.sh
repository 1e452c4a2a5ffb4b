#!/usr/bin/env bash
# What a child's checkpoint after every epoch costs: nas train of a 1@192 network (N = 1, F = 8)
# on the bundled data with --out (a checkpoint after each epoch, as a search's child keeps, and the
# trained network for PyTorch at the end) against the same training without, whole processes paired
# (farm-bench). Then the size of one checkpoint. Usage: bench/checkpoint-cost.sh [EPOCHS] [PAIRS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-3}"
out="$(mktemp -d)"
farm-bench -n "${2:-4}" --timeout 3000 --vs "./nas train -N 1 -F 8 -e $epochs --json" -- \
  sh -c "rm -rf $out/ck && ./nas train -N 1 -F 8 -e $epochs --json --out $out/ck >/dev/null"
ls -l "$out/ck"
