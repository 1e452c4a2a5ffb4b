#!/usr/bin/env bash
# The kernel check and the convolution paths (docs/decisions.md, "Arithmetic checked on every device"):
# the fault's reproduction, `nas check` time, and training images/s of a dense-conv child and the
# demo's NASNet-A-sized children on each path. Figures: bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
lscpu | grep -E '^(Model name|CPU family|Model):'
out="$(mktemp -d)"
dotnet build bench/ConvFault -c Release -o "$out/convfault" -nologo -v quiet
dotnet "$out/convfault/ConvFault.dll" kernels=3x3 strides=1 dilations=1 batch=8 size=14 channels=1,2,4,8,12,16,20,24,32,44
dotnet "$out/convfault/ConvFault.dll" kernels=3x3 strides=1 dilations=1 batch=8 size=14 channels=1,2,4,8,12,16,20,24,32,44 channels_last=1
for i in 1 2 3; do ./nas check --json | sed -n 's/.*"seconds":\([0-9.]*\).*/nas check: \1 s/p'; done
# A genotype of ten conv_3x3 + identity blocks: the op the fault hits hardest.
printf '%s' '{"normal":{"blocks":[' "$(printf '{"inputs":[0,1],"ops":["conv_3x3","identity"],"combine":"add"},%.0s' 1 2 3 4)" \
  '{"inputs":[0,1],"ops":["conv_3x3","identity"],"combine":"add"}]},"reduction":{"blocks":[' \
  "$(printf '{"inputs":[0,1],"ops":["conv_3x3","identity"],"combine":"add"},%.0s' 1 2 3 4)" \
  '{"inputs":[0,1],"ops":["conv_3x3","identity"],"combine":"add"}]}}' > "$out/conv3.json"
for genotype in "$out/conv3.json" nasnet-a; do
  for path in auto nchw nhwc unfold; do
    echo "== $genotype, --kernels $path"
    # A forced path that computes wrong on this machine is refused (exit 1, one line), not timed.
    ./nas bench train --genotype "$genotype" --configs 1x4,1x16 --dataset fashion-mnist-mini --batch 32 --steps 10 --kernels "$path" --json || true
  done
  echo "== $genotype, NAS_CPU_KERNELS=native"
  NAS_CPU_KERNELS=native ./nas bench train --genotype "$genotype" --configs 1x4,1x16 --dataset fashion-mnist-mini --batch 32 --steps 10 --json
done
