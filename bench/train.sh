#!/usr/bin/env bash
# Training throughput of NASNet-A children for several (N, F), and one NASNet-A trained on the
# full Fashion-MNIST (Debian's dataset-fashion-mnist) with a small budget. Figures: bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
device="${1:-cpu}"
./nas bench train --configs 1x8,2x8,1x16,2x16 --batch 64 --steps 10 --device "$device"
if [[ -d /usr/share/datasets/fashion-mnist ]]; then
  out="$(mktemp -d)"
  ./nas train --genotype nasnet-a --cells 1 --filters 8 --epochs 1 --dataset fashion-mnist \
    --validation 5000 --batch 64 --lr 0.05 --device "$device" --seed 0 --out "$out" --json
fi
