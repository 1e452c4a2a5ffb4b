#!/usr/bin/env bash
# A cluster on this machine: nas search as the seed (coordinator and evaluator) and two trainer
# nodes (nas node) with WORKERS synthetic workers in all (default 500, the paper's scale: 450
# GPUs), children taking CHILD_MS each (default 10,000). Prints one JSON line: children/s; the
# workers' idle share and the overhead per child, from the journal's write times: a child's span
# runs from its assignment being recorded to its result being recorded (the next assignment is
# recorded with the result), so everything in a span beyond CHILD_MS is time the worker was not
# training (messages, recording, handing out); journal bytes per child. Journal: SQLite on the
# seed (PostgreSQL is not in this version).
#   bench/cluster.sh [CHILDREN] [WORKERS] [CHILD_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
children="${1:-1500}"; workers="${2:-500}"; child_ms="${3:-10000}"
dir="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
./nas --help >/dev/null # builds nas once, before three processes start it
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
seed="127.0.0.1:$port"
./nas search --run "$dir/run" --roles coordinator,evaluator --host 127.0.0.1 --port "$port" --join "$seed" \
  --children "$children" --trainer "synthetic:$child_ms" --strategy random --top-k 0 --json > "$dir/status.json" 2> "$dir/search.err" &
search=$!
sleep 3
per_node=$(( workers / 2 ))
for n in 1 2; do
  ./nas node --join "$seed" --trainer "synthetic:$child_ms" --workers-per-device "$per_node" > "$dir/node$n.out" 2> "$dir/node$n.err" &
done
wait "$search"
./nas report --run "$dir/run" --out "$dir/report.html" >/dev/null
python3 - "$dir" "$children" "$workers" "$child_ms" <<'PY'
import json, os, re, sys
d, n, workers, child_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
st = json.load(open(os.path.join(d, "status.json")))
m = json.loads(re.search(r'id="nas-model">(.*?)</script>', open(os.path.join(d, "report.html")).read(), re.S).group(1))
t = m["runs"][0]["timeline"]
spans, gaps = [], []
for w in set(t["worker"]):
    mine = sorted((s, e) for wk, s, e, o in zip(t["worker"], t["startS"], t["endS"], t["outcome"]) if wk == w and o == "trained")
    spans += [e - s for s, e in mine]
    gaps += [b[0] - a[1] for a, b in zip(mine, mine[1:])]
# Not training: the part of each span beyond the child's own time, and any gap between spans.
overhead = sorted(max(0.0, x - child_ms / 1000) for x in spans)
idle = sum(overhead) + sum(max(0.0, g) for g in gaps)
q = lambda p: round(overhead[min(len(overhead) - 1, int(p * len(overhead)))] * 1000, 1) if overhead else None
journal = sum(os.path.getsize(os.path.join(d, "run", f)) for f in os.listdir(os.path.join(d, "run")) if f.startswith("journal.db"))
print(json.dumps({"children": n, "workers": workers, "child_ms": child_ms, "journal": "sqlite", "completed": st["completed"],
                  "search_s": round(st["elapsed_s"], 1), "children_per_s": round(n / st["elapsed_s"], 1),
                  "worker_count_seen": len(set(t["worker"])), "idle_share": round(idle / (sum(spans) + sum(max(0.0, g) for g in gaps)), 4) if spans else None,
                  "overhead_per_child_p50_ms": q(0.5), "overhead_per_child_p99_ms": q(0.99), "journal_bytes_per_child": journal // n}))
PY
