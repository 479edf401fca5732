#!/usr/bin/env bash
# Compiles src/test/cuda/quants_test.cu with nvcc (host code only, no GPU needed) and checks
# the CUDA block decoders against llama.cpp's reference values in fixtures/quants. Without
# nvcc it says so and exits 0. Usage: test-quants.sh <native dir> <fixtures/quants dir> <work dir>
set -euo pipefail
native="$1"
fixtures="$2"
work="$3"
nvcc_bin="${NVCC:-}"
if [ "$nvcc_bin" = none ]; then
  nvcc_bin=""
elif [ -z "$nvcc_bin" ]; then
  nvcc_bin="$(command -v nvcc || true)"
  [ -n "$nvcc_bin" ] || { [ -x /usr/local/cuda/bin/nvcc ] && nvcc_bin=/usr/local/cuda/bin/nvcc; } || true
fi
if [ -z "$nvcc_bin" ]; then
  echo "[native] nvcc not found: skipping the host check of the CUDA block decoders"
  exit 0
fi
mkdir -p "$work"
"$nvcc_bin" -std=c++17 -O2 -Xcompiler -ffp-contract=off -I "$native/src/main/cuda" \
  -o "$work/quants_test" "$native/src/test/cuda/quants_test.cu"
"$work/quants_test" "$fixtures"
