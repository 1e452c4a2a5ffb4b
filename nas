#!/usr/bin/env bash
# Builds the nas CLI (Release) when its sources changed since the last build, then runs it
# (deploy/launch). For machines that should not build, deploy/pack builds once to copy.
# NAS_TORCH_BACKEND=system builds against the managed TorchSharp only and loads libtorch (with
# CUDA) from an installed PyTorch: NAS_LIBTORCH_DIR, or the lib folder of python3's torch.
# NAS_TORCH_BACKEND=cuda builds with NuGet's TorchSharp-cuda-linux, where the package feed has it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backend="${NAS_TORCH_BACKEND:-cpu}"
case "$backend" in
  cpu) out="$root/.build/nas" ;;
  cuda) out="$root/.build/nas-cuda" ;;
  system) out="$root/.build/nas-system" ;;
  *) echo "nas: NAS_TORCH_BACKEND must be cpu, cuda or system, not '$backend'" >&2; exit 1 ;;
esac
stamp="$out/.stamp"
if [[ ! -f "$stamp" ]] || [[ -n "$(find "$root" -path "$root/.build" -prune -o -path '*/bin' -prune -o -path '*/obj' -prune -o -path '*/obj-*' -prune -o \
      -path "$root/tests" -prune -o -path "$root/runs" -prune -o \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.hocon' -o -path '*/Reports/Assets/*' \) -newer "$stamp" -print -quit)" ]]; then
  # A first build restores about 1.2 GB (libtorch) and takes 2-3 minutes: said first, so a silent wait is not taken for a hang.
  if [[ -f "$stamp" ]]; then
    echo "nas: sources changed; rebuilding the nas command (under a minute)" >&2
  else
    echo "nas: building the nas command into ${out#"$root"/} (first build: 2-3 minutes, downloads about 1.2 GB of libtorch once)" >&2
  fi
  log="$(mktemp)"
  if ! dotnet build "$root/Cli/Cli.csproj" -c Release -o "$out" -nologo -v quiet -p:TorchBackend="$backend" >"$log" 2>&1; then
    # A feed without the CUDA package: one line that says so, not a page of restore errors.
    if [[ "$backend" == cuda ]] && grep -q "Unable to find package TorchSharp-cuda-linux" "$log"; then
      echo "nas: the package feed has no TorchSharp-cuda-linux (NAS_TORCH_BACKEND=cuda); use NAS_TORCH_BACKEND=system with an installed PyTorch, or add a NuGet feed that serves it" >&2
      rm -f "$log"
      exit 1
    fi
    cat "$log" >&2
    rm -f "$log"
    echo "nas: build failed" >&2
    exit 1
  fi
  rm -f "$log"
  echo "$backend" > "$out/torch-backend"
  touch "$stamp"
fi
NAS_BUILD_DIR="$out" NAS_TORCH_BACKEND="$backend" exec "$root/deploy/launch" "$@"
