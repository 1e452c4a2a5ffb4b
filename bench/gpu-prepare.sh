#!/usr/bin/env bash
# Prepares what bench/gpu.sh needs on a GPU machine that has PyTorch but no .NET, into .gpu/
# (ignored by git; carry it to the GPU machine with the working tree, 64 MiB at most):
#   .gpu/dotnet.tar.xz  the .NET runtime (dotnet host, Microsoft.NETCore.App, Microsoft.AspNetCore.App)
#   .gpu/nas.tar.xz     nas built against the managed TorchSharp only (NAS_TORCH_BACKEND=system):
#                       it loads the GPU machine's PyTorch libtorch, with CUDA
# Nothing is built on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu && mkdir -p .gpu
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
tar -C "$dotnet_root" -cJf .gpu/dotnet.tar.xz dotnet host shared/Microsoft.NETCore.App shared/Microsoft.AspNetCore.App
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
dotnet build Cli/Cli.csproj -c Release -o "$build/nas" -nologo -v quiet -p:TorchBackend=system
# Linux x64 only: other platforms' native files would only take room.
find "$build/nas/runtimes" -mindepth 1 -maxdepth 1 -type d ! -name 'linux-x64' ! -name 'unix' -exec rm -rf {} +
tar -C "$build" -cJf .gpu/nas.tar.xz nas
du -sh .gpu/*
