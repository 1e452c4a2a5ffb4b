#!/usr/bin/env bash
# Builds the nas CLI (Release) when its sources changed since the last build, then runs it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$root/.build/nas"
stamp="$out/.stamp"
if [[ ! -f "$stamp" ]] || [[ -n "$(find "$root" -path "$root/.build" -prune -o -path '*/bin' -prune -o -path '*/obj' -prune -o \
      -path "$root/tests" -prune -o -path "$root/runs" -prune -o \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.hocon' \) -newer "$stamp" -print -quit)" ]]; then
  log="$(mktemp)"
  if ! dotnet build "$root/Node/Node.csproj" -c Release -o "$out" -nologo -v quiet >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "nas: build failed" >&2
    exit 1
  fi
  rm -f "$log"
  touch "$stamp"
fi
exec dotnet "$out/nas.dll" "$@"
