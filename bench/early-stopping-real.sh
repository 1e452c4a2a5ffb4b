#!/usr/bin/env bash
# ASHA against full training on real children (bundled Fashion-MNIST subset, N = 1, F = 8,
# 9 epochs, random search, one CPU worker): per seed, a full search of CHILDREN children, an
# ASHA search of the same children (random search proposes the same genotypes for the same seed:
# checked below), then that ASHA search resumed with more children until it has spent the full
# search's child-epochs. Prints one JSON line per seed; the runs stay in the folder named on
# stderr. Figures: bench/RESULTS.md. Training is the same in every process for a given libtorch
# thread count: run seeds side by side with OMP_NUM_THREADS=1 each, not with more threads than cores.
# Usage: bench/early-stopping-real.sh [CHILDREN] [SEED...]   (NAS=path to nas, default ./nas)
set -euo pipefail
cd "$(dirname "$0")/.."
nas=(${NAS:-./nas})
children="${1:-16}"; shift || true
seeds=("${@:-0 1 2}"); seeds=(${seeds[*]})
out="$(mktemp -d)"
echo "runs in $out" >&2
cat >"$out/config.json" <<'EOF'
{
  "strategy": "random",
  "top_k": 0,
  "search": {
    "cells": 1, "filters": 8, "epochs": 9, "batch_size": 32, "learning_rate": 0.1,
    "dataset": "fashion-mnist-mini", "validation_size": 500, "train_limit": 500,
    "drop_path_keep": 1, "timeout_seconds": 3600
  }
}
EOF
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
genotypes() { "${nas[@]}" top --run "$1" --all -k 100000 --json | /usr/bin/python3 -c '
import json, sys
for r in sorted(json.load(sys.stdin), key=lambda r: r["child_id"]): print(r["child_id"], r["genotype"])'; }
search() { "${nas[@]}" search --config "$out/config.json" "$@" >/dev/null 2>>"$out/stderr"; }

for seed in "${seeds[@]}"; do
  full="$out/full-$seed"; asha="$out/asha-$seed"
  start=$SECONDS
  search --run "$full" --seed "$seed" --children "$children"
  full_s=$(( SECONDS - start )); full_status="$("${nas[@]}" status --run "$full" --json)"
  start=$SECONDS
  search --run "$asha" --seed "$seed" --children "$children" --early-stop asha
  asha_s=$(( SECONDS - start )); asha_status="$("${nas[@]}" status --run "$asha" --json)"
  # Same children: every ASHA child has the full search's genotype.
  genotypes "$full" >"$out/full.txt"; genotypes "$asha" >"$out/asha.txt"
  if [[ $(wc -l <"$out/full.txt") -ne $children ]] || ! cmp -s "$out/full.txt" "$out/asha.txt"; then
    echo "seed $seed: the ASHA search sampled other children than the full search" >&2; exit 1
  fi
  budget=$children; equal_status="$asha_status"
  while (( $(field epochs_trained "$equal_status") < $(field epochs_trained "$full_status") )); do
    budget=$(( budget + 4 ))
    search --run "$asha" --seed "$seed" --children "$budget" --early-stop asha
    equal_status="$("${nas[@]}" status --run "$asha" --json)"
  done
  equal_s=$(( SECONDS - start ))
  printf '{"seed":%s,"children":%s,"full":{"epochs":%s,"best":%s,"seconds":%s},"asha_same_children":{"epochs":%s,"best":%s,"stopped":%s,"seconds":%s},"asha_equal_epochs":{"children":%s,"epochs":%s,"best":%s,"stopped":%s,"seconds":%s}}\n' \
    "$seed" "$children" \
    "$(field epochs_trained "$full_status")" "$(field best_accuracy "$full_status")" "$full_s" \
    "$(field epochs_trained "$asha_status")" "$(field best_accuracy "$asha_status")" "$(field stopped "$asha_status")" "$asha_s" \
    "$budget" "$(field epochs_trained "$equal_status")" "$(field best_accuracy "$equal_status")" "$(field stopped "$equal_status")" "$equal_s"
done
