#!/usr/bin/env bash
# A search of days compressed into MINUTES (default 60), with an operator's faults on a schedule,
# and the memory of every process sampled: a private PostgreSQL server, a seed coordinator and a
# standby for one run, two trainer nodes of 4 synthetic workers (children of 2 s, PPO, a budget
# it never reaches). Every 10 minutes: trainer node T2 killed (kill -9, then SIGTERM the next
# time) and started again, T1 paused (SIGSTOP) for 20 s, PostgreSQL stopped for 16 s; at a third
# and two thirds of the time the coordinator holding the run's lease is killed (kill -9) and
# started again as a standby. Each process writes its memory to its log every 10 s
# (nas.memory-log-every); bench/soak-slopes.py fits each process's growth after its first
# 5 minutes. Figures: bench/RESULTS.md.
# Usage: bench/soak.sh [MINUTES] [OUT]   (NAS=path to nas, default ./nas; SOAK_CYCLE_S: the faults' cycle, default 600 s;
# run as root or as a user that may run initdb)
set -uo pipefail
cd "$(dirname "$0")/.."
nas=(${NAS:-./nas})
minutes=${1:-60}
out=${2:-$(mktemp -d /tmp/nas-soak.XXXX)}
mkdir -p "$out"
chmod 777 "$out"
bin=$(ls -d /usr/lib/postgresql/*/bin | head -1)
pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$bin/$1" "${@:2}"; else "$bin/$1" "${@:2}"; fi; }
pgport=55440; a=4910; b=4911
pg initdb -D "$out/pg" -A trust -U nas --no-sync >/dev/null
pgstart() { pg pg_ctl -D "$out/pg" -w -l "$out/pg.log" -o "-p $pgport -k $out -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; }
pgstart
pg createdb -h 127.0.0.1 -p $pgport -U nas nas
url="postgresql://nas@127.0.0.1:$pgport/nas"
run="soak-$(date +%Y%m%d-%H%M%S)"
seeds="127.0.0.1:$a,127.0.0.1:$b"
echo 'nas.memory-log-every = 10s' >"$out/memory.hocon"
log() { echo "$(date -u +%FT%TZ) $*" | tee -a "$out/events.log"; }

declare -A pid
n=0
start() { # name, then the command's arguments
  local name=$1; shift
  n=$((n + 1))
  "${nas[@]}" "$@" --hocon "$out/memory.hocon" >"$out/$name.$n.out" 2>"$out/$name.$n.err" &
  pid[$name]=$!
  echo "${pid[$name]} $name $name.$n.err" >>"$out/processes"
  log "started $name (pid ${pid[$name]})"
}
coordinator() { start "$1" node --join "$seeds" --port "$2" --roles coordinator,evaluator --journal "$url" --run "$run"; }
trainer() { start "$1" node --join "$seeds" --trainer synthetic:2000 --workers-per-device 4; }

start A search --journal "$url" --run "$run" --children 1000000 --trainer synthetic:2000 --strategy ppo --top-k 1 \
  --roles coordinator,evaluator --port $a --join "$seeds"
sleep 8
coordinator B $b
trainer T1
trainer T2
begin=$(date +%s)
at() { while (( $(date +%s) - begin < $1 )); do sleep 1; done; }
holder() { # the coordinator that took the lease last
  local best="" when=""
  for c in A B; do
    local t; t=$(grep -h "took the run's writer lease" "$out"/$c.*.err 2>/dev/null | tail -1 | cut -d' ' -f1)
    [[ -n "$t" && "$t" > "$when" ]] && { when=$t; best=$c; }
  done
  echo "${best:-A}"
}

end=$((minutes * 60)); cycle=${SOAK_CYCLE_S:-600}; kills=0
for ((c = 0; c * cycle < end; c++)); do
  t=$((c * cycle))
  at $((t + cycle / 10))
  if (( c % 2 == 0 )); then log "kill -9 T2"; kill -9 "${pid[T2]}"; else log "SIGTERM T2"; kill -TERM "${pid[T2]}"; fi
  wait "${pid[T2]}" 2>/dev/null; sleep 10; trainer T2
  at $((t + cycle * 3 / 10)); log "SIGSTOP T1 for 20 s"; kill -STOP "${pid[T1]}"; sleep 20; kill -CONT "${pid[T1]}"
  at $((t + cycle * 5 / 10)); log "PostgreSQL stopped for 16 s"; pg pg_ctl -D "$out/pg" -m fast -w stop >/dev/null; sleep 16; pgstart; log "PostgreSQL started"
  if (( kills < 2 )) && (( t + cycle * 7 / 10 >= (kills + 1) * end / 3 )) && (( t + cycle * 7 / 10 < end )); then
    at $((t + cycle * 7 / 10)); h=$(holder); kills=$((kills + 1))
    log "kill -9 the lease holder $h"; kill -9 "${pid[$h]}"; wait "${pid[$h]}" 2>/dev/null
    sleep 10; if [[ $h == A ]]; then coordinator A $a; else coordinator B $b; fi
  fi
done
at "$end"
log "end: SIGTERM to every node"
for p in T1 T2 B A; do kill -TERM "${pid[$p]}" 2>/dev/null; done
for _ in $(seq 60); do
  alive=(); for p in T1 T2 B A; do kill -0 "${pid[$p]}" 2>/dev/null && alive+=("$p"); done
  (( ${#alive[@]} == 0 )) && break; sleep 1
done
for p in "${alive[@]}"; do log "$p did not stop within 60 s of SIGTERM: killed"; kill -9 "${pid[$p]}"; done
wait
"${nas[@]}" status --journal "$url" --run "$run" --json >"$out/status.json" 2>&1
pg pg_ctl -D "$out/pg" -m fast -w stop >/dev/null
/usr/bin/python3 bench/soak-slopes.py "$out"
echo "logs and samples: $out" >&2
