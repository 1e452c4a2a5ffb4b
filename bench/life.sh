#!/usr/bin/env bash
# One coordinator life without faults, its memory sampled: a seed on a SQLite run folder (the
# coordinator and evaluator, PPO, a budget it never reaches) and two trainer nodes of 4 synthetic
# workers (children of 2 s), each writing its memory to its log every 10 s; every minute
# bench/memory-classes.py samples where each one's anonymous memory is (GC heap, C heap, code).
# After MINUTES (default 25) the trainer nodes and the seed are stopped (SIGTERM) and
# bench/soak-slopes.py and memory-classes.py fit each process's growth after its first 5
# minutes. Run it with MALLOC_ARENA_MAX set to compare C heaps (./nas sets 2 where it is not set). Figures: bench/RESULTS.md, "Native memory".
# Usage: bench/life.sh [MINUTES] [OUT]   (NAS=path to nas, default ./nas)
set -uo pipefail
cd "$(dirname "$0")/.."
nas=(${NAS:-./nas})
minutes=${1:-25}
out=${2:-$(mktemp -d /tmp/nas-life.XXXX)}
mkdir -p "$out"
echo 'nas.memory-log-every = 10s' >"$out/memory.hocon"
"${nas[@]}" --help >/dev/null || exit 1 # builds once, before three processes would
seed="127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${nas[@]}" search --run "$out/run" --children 1000000 --strategy ppo --roles coordinator,evaluator \
  --host 127.0.0.1 --port "${seed#*:}" --join "$seed" --hocon "$out/memory.hocon" >"$out/search.out" 2>"$out/search.err" &
coordinator=$!
sleep 15
trainers=()
for t in 1 2; do
  "${nas[@]}" node --join "$seed" --trainer synthetic:2000 --workers-per-device 4 --hocon "$out/memory.hocon" >"$out/t$t.out" 2>"$out/t$t.log" &
  trainers+=($!)
done
printf "%s coordinator run/node.log\n%s trainer1 t1.log\n%s trainer2 t2.log\n" "$coordinator" "${trainers[@]}" >"$out/processes"
(while sleep 60; do
  python3 bench/memory-classes.py sample "coordinator:$coordinator" "trainer1:${trainers[0]}" "trainer2:${trainers[1]}"
done) >>"$out/classes.log" &
sampler=$!
sleep $((minutes * 60))
kill "$sampler"
kill -TERM "${trainers[@]}"
wait "${trainers[@]}"
kill -TERM "$coordinator"
wait "$coordinator"
"${nas[@]}" status --run "$out/run" --json | python3 -c 'import json, sys; print("children trained:", json.load(sys.stdin)["completed"])'
python3 bench/soak-slopes.py "$out"
python3 bench/memory-classes.py fit "$out/classes.log"
echo "logs in $out"
