#!/usr/bin/env bash
# The controller's cost per child for a 20,000-child search (or $1 children). PPO twice, every
# setting on the command line so that a later default does not change what this measures: a new
# search's (4 passes, advantages normalised, Adam 0.001) and the paper's (1 pass, raw advantages,
# Adam 0.00035); then evolution and random search. Each line is printed before its JSON result.
set -euo pipefail
cd "$(dirname "$0")/.."
children="${1:-20000}"
common=(--children "$children" --in-flight 20 --seed 0 --objective synthetic --json)
run() {
  echo "./nas bench controller $*" >&2
  ./nas bench controller "$@"
}
run --strategy ppo --ppo-epochs 4 --ppo-normalize true --ppo-lr 0.001 "${common[@]}"
run --strategy ppo --ppo-epochs 1 --ppo-normalize false --ppo-lr 0.00035 "${common[@]}"
for strategy in evolution random; do
  run --strategy "$strategy" "${common[@]}"
done
