#!/usr/bin/env bash
# The GPU benchmarks and checks, in one run of under 10 minutes on a GPU machine with PyTorch
# and no .NET. First, on a machine with the .NET SDK: bench/gpu-prepare.sh (fills .gpu/). Then,
# on the GPU machine, from the repository root: bench/gpu.sh
# Prints JSON lines (and appends them to $OUT/gpu.jsonl when $OUT is set):
#   machine      GPU, driver, CUDA, PyTorch/libtorch versions
#   devices      a missing device is refused in one line (train, search)
#   step         images/s of one training step, ours and PyTorch's, same GPU, same run:
#                NASNet-A 6@768 CIFAR (32 px, batch 128) and 6@4032 (331 px, stem 96, batch 32;
#                PyTorch: the same layers from `nas model --pytorch`, and timm's nasnetalarge where
#                timm is installed), fp32 and bf16, and fp32 channels-last
#   child        one epoch of a child at the search size (N=2, F=32) on CIFAR-format data, with
#                the GPU utilisation nvidia-smi saw meanwhile
#   search       20 children on cuda:0 with K = 1, 2, 4 workers per device: wall time, children/s,
#                the GPU's utilisation and idle share (nvidia-smi every 250 ms) and the dispatch
#                gap between two children of one worker (from the journal, via the report model)
#   oom          a child too big for the GPU fails with its reason; the search goes on
# GPU_SH_DRY=1 runs the same plumbing on the CPU, tiny (python3 must import torch): a check of
# this script before a GPU's minutes are spent on it, not a measurement.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="${OUT:-$root/.gpu/out}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT

dry="${GPU_SH_DRY:-0}"
device=cuda:0; images=10000; steps=30; big_steps=15; children=20; epoch_images=45000; batch=128; warmup=5
if [[ "$dry" == 1 ]]; then device=cpu; images=300; steps=1; big_steps=1; children=2; epoch_images=1000; batch=4; warmup=1; fi
emit() { echo "$1"; echo "$1" >> "$out/gpu.jsonl"; }
note() { emit "{\"kind\": \"note\", \"text\": \"$1\"}"; }

# ---- the runtime we carried, and PyTorch's libtorch ----
[[ -f .gpu/dotnet.tar.xz && -f .gpu/nas.tar.xz ]] || { echo "gpu.sh: run bench/gpu-prepare.sh first (no .gpu/)" >&2; exit 1; }
export DOTNET_ROOT="$work/dotnet" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$DOTNET_ROOT" && tar -C "$DOTNET_ROOT" -xJf .gpu/dotnet.tar.xz && tar -C "$work" -xJf .gpu/nas.tar.xz
libtorch="$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$libtorch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Commands, not shell functions: timeout runs them.
mkdir -p "$work/bin"
if [[ "$dry" == 1 ]]; then
  # The dry run's libtorch is the CPU one from NuGet: the repository's own ./nas.
  printf '#!/bin/sh\nexec env -u LD_LIBRARY_PATH "%s/nas" "$@"\n' "$root" > "$work/bin/nas"
else
  printf '#!/bin/sh\nexec "%s/dotnet" "%s/nas/nas.dll" "$@"\n' "$DOTNET_ROOT" "$work" > "$work/bin/nas"
fi
printf '#!/bin/sh\nexec python3 "%s/bench/pytorch_child.py" "$@"\n' "$root" > "$work/bin/py"
chmod +x "$work/bin/nas" "$work/bin/py"
export PATH="$work/bin:$PATH"

emit "$(python3 - <<'PY'
import json, subprocess, torch
try: smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
except FileNotFoundError: smi = None
print(json.dumps({"kind": "machine", "gpu": smi, "torch": torch.__version__, "cuda": torch.version.cuda,
                  "cudnn": torch.backends.cudnn.version(), "gpus": torch.cuda.device_count()}))
PY
)"

# CIFAR-10 binary format (label byte + 3,072 pixel bytes per image), random content: speed only.
data="$work/cifar"
python3 - "$data" "$images" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2]); os.makedirs(d, exist_ok=True)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    with open(os.path.join(d, name), "wb") as f:
        rnd = bytearray(os.urandom(n * 3073))
        for i in range(n): rnd[i * 3073] %= 10
        f.write(rnd)
PY

# ---- devices: a GPU that is not there is one clear line, exit 2 ----
r="$(timeout 60 nas train --device cuda:9 --epochs 1 2>&1)"; rc=$?
emit "$(python3 -c 'import json,sys; print(json.dumps({"kind": "devices", "command": "train --device cuda:9", "exit": int(sys.argv[1]), "message": sys.argv[2]}))' "$rc" "$r")"
r="$(timeout 60 nas search --run "$work/nodev" --devices cuda:0,cuda:9 --children 2 2>&1)"; rc=$?
emit "$(python3 -c 'import json,sys; print(json.dumps({"kind": "devices", "command": "search --devices cuda:0,cuda:9", "exit": int(sys.argv[1]), "message": sys.argv[2]}))' "$rc" "$r")"

# ---- one training step, side by side ----
step() { # label, then our bench train arguments; PyTorch arguments after --
  local label="$1"; shift
  local ours=() theirs=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do ours+=("$1"); shift; done
  [[ "${1:-}" == "--" ]] && shift
  theirs=("$@")
  local o p
  o="$(timeout 240 nas bench train --device "$device" --cudnn-benchmark --json "${ours[@]}" 2>"$work/err")" || o="{\"error\": $(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()[-400:]))' "$work/err")}"
  if [[ ${#theirs[@]} -gt 0 ]]; then
    p="$(timeout 240 py --device "$device" --warmup "$warmup" "${theirs[@]}" 2>"$work/err")" || p="{\"error\": $(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()[-400:]))' "$work/err")}"
  else
    p='null'
  fi
  emit "$(python3 -c '
import json, sys
ours, theirs = json.loads(sys.argv[2]), json.loads(sys.argv[3])
o = ours[0] if isinstance(ours, list) else ours
rec = {"kind": "step", "case": sys.argv[1], "ours_images_per_s": o.get("images_per_second"), "ours_params": o.get("parameters"),
       "pytorch_images_per_s": theirs.get("images_per_s") if theirs else None, "pytorch_params": theirs.get("params") if theirs else None}
if rec["ours_images_per_s"] and rec["pytorch_images_per_s"]: rec["ratio"] = round(rec["ours_images_per_s"] / rec["pytorch_images_per_s"], 3)
for side, v in (("ours", o), ("pytorch", theirs)):
    if v and "error" in v: rec[side + "_error"] = v["error"]
print(json.dumps(rec))' "$label" "$o" "$p")"
}

nas model --cells 6 --filters 32 --dataset cifar10 --pytorch "$work/cifar.py" > /dev/null
nas model --cells 6 --filters 168 --dataset imagenet --image 331 --stem-filters 96 --classes 1000 --pytorch "$work/large.py" > /dev/null
for precision in fp32 bf16; do
  step "6@768 cifar b$batch $precision" --configs 6x32 --dataset "cifar10:$data" --batch "$batch" --steps "$steps" --precision "$precision" \
    -- --model "$work/cifar.py" --batch "$batch" --steps "$steps" --precision "$precision"
done
step "6@768 cifar b$batch fp32 channels-last" --configs 6x32 --dataset "cifar10:$data" --batch "$batch" --steps "$steps" --channels-last \
  -- --model "$work/cifar.py" --batch "$batch" --steps "$steps" --channels-last
for precision in fp32 bf16; do
  [[ "$dry" == 1 ]] && break
  step "6@4032 331px b32 $precision (PyTorch: same layers)" --configs 6x168 --image 331 --stem-filters 96 --batch 32 --steps "$big_steps" --precision "$precision" \
    -- --model "$work/large.py" --batch 32 --steps "$big_steps" --precision "$precision"
  if python3 -c 'import timm' 2>/dev/null; then
    step "6@4032 331px b32 $precision (PyTorch: timm nasnetalarge)" --configs 6x168 --image 331 --stem-filters 96 --batch 32 --steps "$big_steps" --precision "$precision" \
      -- --timm nasnetalarge --image 331 --batch 32 --steps "$big_steps" --precision "$precision"
  fi
done

# ---- one epoch of a search-size child, with the GPU's utilisation meanwhile ----
nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 250 > "$work/util" 2>/dev/null &
smi=$!
child="$(timeout 300 nas train --device "$device" --cells 2 --filters 32 --dataset "cifar10:$data" --validation "$(( epoch_images / 9 ))" --train-limit "$epoch_images" --epochs 1 --batch "$batch" --cudnn-benchmark --json 2>&1)"
kill "$smi" 2>/dev/null
emit "$(python3 -c '
import json, sys
util = [int(x) for x in open(sys.argv[2]).read().split() if x.strip().isdigit()]
try: c = json.loads(sys.argv[1]); rec = {"seconds": c.get("seconds"), "val_accuracy": c.get("val_accuracy"), "params": c.get("params")}
except Exception: rec = {"error": sys.argv[1][-400:]}
rec.update({"kind": "child", "network": f"2@192 cifar, {sys.argv[3]} images, batch 128",
            "gpu_util_mean": round(sum(util) / len(util), 1) if util else None, "gpu_util_samples": len(util)})
print(json.dumps(rec))' "$child" "$work/util" "$epoch_images")"

# ---- 20-child searches on one GPU, K workers ----
for k in 1 2 4; do
  cat > "$work/search$k.json" <<JSON
{"strategy": "random", "budget": $children, "devices": ["$device"], "workers_per_device": $k, "top_k": 0,
 "search": {"cells": 2, "filters": 16, "epochs": 1, "batch_size": 128, "learning_rate": 0.1, "dataset": "cifar10:$data",
            "validation_size": $(( images / 2 )), "train_limit": $(( images )), "drop_path_keep": 1.0, "timeout_seconds": 600, "cudnn_benchmark": true},
 "final": {"cells": 2, "filters": 16, "epochs": 1, "batch_size": 128, "learning_rate": 0.1, "dataset": "cifar10:$data",
           "validation_size": $(( images / 2 )), "train_limit": $(( images )), "drop_path_keep": 1.0, "timeout_seconds": 600}}
JSON
  # The journal shows dispatch gaps; the GPU's own view of its idle time is its utilisation.
  nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 250 > "$work/util$k" 2>/dev/null &
  smi=$!
  start=$(date +%s.%N)
  s="$(timeout 400 nas search --run "$work/k$k" --config "$work/search$k.json" --json 2>"$work/err")"
  end=$(date +%s.%N)
  kill "$smi" 2>/dev/null
  nas report --run "$work/k$k" --out "$work/k$k.html" >/dev/null 2>&1
  emit "$(python3 - "$k" "$start" "$end" "$s" "$work/k$k.html" "$work/err" "$children" "$work/util$k" <<'PY'
import json, re, sys
k, start, end, status, html, err, n = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7])
util = [int(x) for x in open(sys.argv[8]).read().split() if x.strip().isdigit()]
rec = {"kind": "search", "workers_per_device": k, "children": n, "wall_s": round(end - start, 1),
       "gpu_util_mean": round(sum(util) / len(util), 1) if util else None,
       "gpu_idle_fraction": round(sum(1 for u in util if u == 0) / len(util), 3) if util else None}
try:
    st = json.loads(status); rec.update(completed=st["completed"], failed=st["failed"], search_s=round(st["elapsed_s"], 1),
                                        children_per_s=round(n / st["elapsed_s"], 3))
    m = json.loads(re.search(r'id="nas-model">(.*?)</script>', open(html).read(), re.S).group(1))
    t = m["runs"][0]["timeline"]
    gaps = []
    for w in set(t["worker"]):
        spans = sorted((s, e) for wk, s, e in zip(t["worker"], t["startS"], t["endS"]) if wk == w and e is not None)
        gaps += [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    # From the journal: a worker's result to its next assignment (the dispatch gap).
    rec["dispatch_gap_s"] = {"mean": round(sum(gaps) / len(gaps), 3), "max": round(max(gaps), 3)} if gaps else None
    rec["child_s_mean"] = round(sum(e - s for s, e in zip(t["startS"], t["endS"]) if e is not None) / len(t["startS"]), 2)
except Exception as e:
    rec["error"] = f"{e}: {open(err).read()[-400:]}"
print(json.dumps(rec))
PY
)"
done

# ---- out of memory: the child fails with its reason, the search goes on ----
[[ "$dry" == 1 ]] && { note "dry run done"; exit 0; }
cat > "$work/oom.json" <<JSON
{"strategy": "random", "budget": 2, "devices": ["cuda:0"], "top_k": 0,
 "search": {"cells": 6, "filters": 512, "epochs": 1, "batch_size": 4096, "learning_rate": 0.1, "dataset": "cifar10:$data",
            "validation_size": 5000, "train_limit": 8192, "drop_path_keep": 1.0, "timeout_seconds": 300},
 "final": {"cells": 1, "filters": 8, "epochs": 1, "batch_size": 64, "learning_rate": 0.1, "dataset": "cifar10:$data",
           "validation_size": 5000, "train_limit": 1000, "drop_path_keep": 1.0, "timeout_seconds": 300}}
JSON
timeout 300 nas search --run "$work/oom" --config "$work/oom.json" --json >/dev/null 2>"$work/err"
rc=$?
emit "$(python3 -c '
import json, subprocess, sys
f = subprocess.run(sys.argv[2:], capture_output=True, text=True)
try: failures = json.loads(f.stdout)
except Exception: failures = f.stdout[-400:] + f.stderr[-400:]
print(json.dumps({"kind": "oom", "search_exit": int(sys.argv[1]), "failures": failures}))' "$rc" nas failures --run "$work/oom" --json)"
note "done"
