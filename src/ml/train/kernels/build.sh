#!/bin/sh
# Builds kernels.wasm from kernels.c with Debian's clang + lld (apt-get install clang lld).
# The result is committed; test/ml/train/simd-kernels.test.ts rebuilds it and checks the bytes match.
# Usage: build.sh [OUT]   (default: kernels.wasm next to this script)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/kernels.wasm}
clang --target=wasm32 -O3 -msimd128 -mmutable-globals -nostdlib -ffreestanding -fno-builtin \
  -ffile-prefix-map="$here"=. -fdebug-prefix-map="$here"=. \
  -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,--strip-all \
  -Wl,--export=conv2d_filter_grad -Wl,--export=max_pool_grad -Wl,--export=batch_matmul -Wl,--export=sum_leading \
  -o "$out" "$here/kernels.c"
