#!/bin/bash
# One call on a GPU machine: build for the local GPU, run every CUDA test in its own
# process (a sticky CUDA error must not fail the tests after it), then the benchmark
# suites named as NAME:SECONDS (e.g. ease:80 autorec:110) on the GPU, ours and PyTorch.
# Results land in $OUT (or ./gpu-results): results.txt, fail.log, gpu_NAME.json/.log.
#   bash benchmarks/run_gpu.sh ease:80 autorec:110 implicit:170 deeprec:160 svae:200
# MovieLens 100K is read from $AUTOREC_FAST_DATA/ml-100k when set.
OUT=${OUT:-$PWD/gpu-results}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-16} AUTOREC_FAST_CUDA=ON
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
python3 -m pip install --no-build-isolation -q -C cmake.define.CMAKE_CUDA_ARCHITECTURES="$ARCH" \
  -C build-dir=/tmp/autorec_fast_build . 2>&1 | grep -v WARNING | tail -15
# -P: the installed package, not the uncompiled source tree in the working directory
# (the CUDA binding checks launch no kernel: their two files run whole, below, not a process per test)
python3 -P -m pytest tests -q --collect-only -k cuda -p no:cacheprovider 2>/dev/null | grep '::' \
  | grep -v '^tests/kernels/test_cuda_' > /tmp/cuda_ids
run_one() {
  log=/tmp/cuda_test_$(echo "$1" | md5sum | cut -c1-10).log
  CUDA_LAUNCH_BLOCKING=1 timeout 120 python3 -P -m pytest "$1" -q -p no:cacheprovider > "$log" 2>&1
  rc=$?; echo "$rc $1" >> /tmp/cuda_results
  [ $rc -ne 0 ] && { echo "=== $1 (rc $rc)"; grep -E "^E |\.py:[0-9]+:" "$log" | head -25; } >> "$OUT/fail.log"
  return 0
}
export -f run_one; export OUT
rm -f /tmp/cuda_results "$OUT/fail.log"; touch "$OUT/fail.log"
xargs -P 8 -I{} bash -c 'run_one "$@"' _ {} < /tmp/cuda_ids
sort -k2 /tmp/cuda_results > "$OUT/results.txt"
echo "CUDA tests: $(grep -c '^0 ' "$OUT/results.txt") of $(wc -l < "$OUT/results.txt") passed"; grep -v '^0 ' "$OUT/results.txt"
python3 -P -m pytest tests/kernels/test_cuda_bindings.py tests/kernels/test_cuda_backend_calls.py -q \
  -p no:cacheprovider > "$OUT/cuda_bindings.log" 2>&1
echo "CUDA binding checks rc=$?: $(tail -1 "$OUT/cuda_bindings.log")"
for suite in "$@"; do
  name=${suite%%:*}; limit=${suite##*:}
  AUTOREC_BENCH_DEVICE=cuda timeout "$limit" python3 -P -m pytest "benchmarks/speed/test_${name}_bench.py" \
    --benchmark-enable -q -p no:cacheprovider --benchmark-json="$OUT/gpu_${name}.json" > "$OUT/gpu_${name}.log" 2>&1
  echo "## $name rc=$?"; grep -E "passed|failed|FAILED" "$OUT/gpu_${name}.log" | tail -5
done
