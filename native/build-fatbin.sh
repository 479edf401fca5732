#!/usr/bin/env bash
# Builds ferry's CUDA kernels into one fatbin: SASS for sm_80, sm_86, sm_89, sm_90 and
# compute_90 PTX (JIT-compiled by newer GPUs' drivers). CUDA 13's nvcc emits PTX ISA 9.0,
# which needs an NVIDIA driver >= 580 to JIT; the SASS parts load on any driver that supports
# the toolkit that built them. Without nvcc this prints why and exits 0: the build still
# passes and the CUDA backend reports its kernels as missing.
# Usage: build-fatbin.sh <source dir> <output fatbin>   (NVCC=/path/to/nvcc picks one, NVCC=none skips)
set -euo pipefail
src="$1"
out="$2"
nvcc_bin="${NVCC:-}"
if [ "$nvcc_bin" = none ]; then
  nvcc_bin=""
elif [ -z "$nvcc_bin" ]; then
  if command -v nvcc >/dev/null 2>&1; then
    nvcc_bin="$(command -v nvcc)"
  elif [ -x /usr/local/cuda/bin/nvcc ]; then
    nvcc_bin=/usr/local/cuda/bin/nvcc
  fi
fi
if [ -z "$nvcc_bin" ]; then
  echo "[native] nvcc not found: skipping the CUDA kernels (the CUDA backend will report them missing)"
  exit 0
fi
if [ -f "$out" ] && [ -z "$(find "$src" -newer "$out" -type f -print -quit)" ]; then
  echo "[native] $out is up to date"
  exit 0
fi
mkdir -p "$(dirname "$out")"
start=$(date +%s)
"$nvcc_bin" -O3 -std=c++17 --threads 0 -fatbin \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_86,code=sm_86 \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  -o "$out.tmp" "$src/ferry_kernels.cu"
mv "$out.tmp" "$out"
echo "[native] built $out ($(stat -c %s "$out") bytes) with $("$nvcc_bin" --version | tail -1) in $(( $(date +%s) - start )) s"
