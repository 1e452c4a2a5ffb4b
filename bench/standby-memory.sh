#!/usr/bin/env bash
# An idle standby coordinator's memory (RSS) while a search runs and after it finished: a seed
# `nas search` (600 PPO children of synthetic:20, 4 workers) on a PostgreSQL run, and a standby
# for that run. Figures: bench/RESULTS.md.
# Usage: bench/standby-memory.sh postgresql://USER@HOST:PORT/DB RUN [SEED_PORT]   (NAS=path to nas, default ./nas)
set -uo pipefail
cd "$(dirname "$0")/.."
nas=(${NAS:-./nas})
url=$1; run=$2; port=${3:-4800}
out="$(mktemp -d)"
"${nas[@]}" search --journal "$url" --run "$run" --children 600 --trainer synthetic:20 --workers-per-device 4 \
  --port "$port" --top-k 1 >"$out/seed.out" 2>"$out/seed.err" &
seed=$!
sleep 6
"${nas[@]}" node --join "127.0.0.1:$port" --roles coordinator,evaluator --journal "$url" --run "$run" >"$out/standby.out" 2>"$out/standby.err" &
standby=$!
for _ in $(seq 60); do grep -q "^node: " "$out/standby.out" && break; sleep 1; done
sleep 3
echo "standby up: $(ps -o rss= -p $standby) KB (seed $(ps -o rss= -p $seed) KB)"
wait $seed
echo "seed finished (exit $?)"
sleep 5; echo "5 s after: $(ps -o rss= -p $standby) KB"
sleep 25; echo "30 s after: $(ps -o rss= -p $standby) KB"
kill -TERM $standby; wait $standby
rm -rf "$out"
