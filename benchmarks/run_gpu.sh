#!/bin/bash
# The GPU session's one script (issue 15): everything the CUDA side needs checked and
# measured, in priority order, inside a time budget. Prepared on the CPU; on the GPU
# machine, from the repository root:
#
#   AUTOREC_FAST_DATA=.data bash benchmarks/run_gpu.sh [BUDGET_S [SUITE:SECONDS[:K] ...]]
#
# (the device tool's timeout_s a little above BUDGET_S, default 420). Stages, each
# started only while the time it needs is left:
#   1. build for the local GPU
#   2. every CUDA test, each in its own process (a sticky CUDA error must not fail the
#      tests after it), 8 at a time, and the CUDA binding checks
#   3. compute-sanitizer memcheck: one epoch and the device paths of every model and
#      EASE, one process per model (benchmarks/speed/gpu_check.py)
#   4. the issue's targets (benchmarks/speed/gpu_targets.py), then again with
#      CUPY_TF32=1 (CuPy's own switch for TF32 GEMMs) to size reduced precision
#   5. benchmark suites, ours and PyTorch on the same GPU, as SUITE:SECONDS[:K]
#      (benchmarks/speed/test_SUITE_bench.py, pytest -k K)
#   6. the kernel profile of I-AutoRec (benchmarks/speed/gpu_profile.py)
# STAGES (default "tests memcheck targets suites profile") picks stages after the build,
# e.g. STAGES="suites profile" for a second call once the checks have passed.
# $OUT (./gpu-results without the device tool) receives summary.txt, also printed
# last, and results.tar.gz with every log and JSON: the tool returns at most 8 files.
# MovieLens 100K is read from $AUTOREC_FAST_DATA/ml-100k when set (the ML-100K rows
# of the suites are skipped without it).
BUDGET=${1:-420}; shift 2>/dev/null
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=("autorec:70:ml-1m" "implicit:110:ml-20m" "deeprec:70:ml-1m or netflix"
                                   "svae:70:ml-1m" "ease:60")
# The logs stay outside $OUT until the end: the tool returns at most 8 files from it, so
# a call cut short must find summary.txt there, not dozens of logs.
OUT=${OUT:-$PWD/gpu-results}; LOGS=/tmp/gpu-logs; rm -rf "$LOGS"; mkdir -p "$LOGS" "$OUT"
export LOGS
SUMMARY=$OUT/summary.txt; : > "$SUMMARY"
export PYTHONUNBUFFERED=1 CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-16} AUTOREC_FAST_CUDA=ON
STAGES=" ${STAGES:-tests memcheck targets suites profile} "
START=$SECONDS
want() { [[ "$STAGES" == *" $1 "* ]]; }
left() { echo $((BUDGET - (SECONDS - START))); }
note() { echo "$*" | tee -a "$SUMMARY"; }
# enough NEED: the stage's usual time; under it the stage is skipped and says so
enough() { [ "$(left)" -ge "$1" ] || { note "SKIPPED $2: $(left) s left, needs about $1 s"; return 1; }; }
finish() {
  note "total $((SECONDS - START)) s of a $BUDGET s budget"
  tar -czf "$OUT/results.tar.gz" -C "$(dirname "$LOGS")" "$(basename "$LOGS")" 2>/dev/null
  echo; echo "===== summary"; cat "$SUMMARY"
}
trap finish EXIT

note "== $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
note "== python $(python3 -c 'import sys, cupy, numpy; print(sys.version.split()[0], "cupy", cupy.__version__, "numpy", numpy.__version__)' 2>&1 | tail -1)"

# ---- 1. build ---------------------------------------------------------------
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
t=$SECONDS
python3 -m pip install --no-build-isolation --no-deps -v -C cmake.define.CMAKE_CUDA_ARCHITECTURES="$ARCH" \
  -C build-dir=/tmp/autorec_fast_build . > "$LOGS/build.log" 2>&1
rc=$?
note "build sm_$ARCH rc=$rc in $((SECONDS - t)) s; $(cd /tmp && python3 -c 'import autorec_fast as af; print("cuda_available", af.cuda_available())' 2>&1 | tail -1)"
[ $rc -ne 0 ] && { grep -E "error|Error" "$LOGS/build.log" | head -20 | tee -a "$SUMMARY"; exit 1; }

# ---- 2. CUDA tests ----------------------------------------------------------
if want tests && enough 60 "CUDA tests"; then
  t=$SECONDS
  # -P: the installed package, not the uncompiled source tree in the working directory.
  # The binding checks launch no kernel: their two files run whole, below.
  python3 -P -m pytest tests -q --collect-only -k cuda -p no:cacheprovider > "$LOGS/collect.log" 2>&1
  grep '::' "$LOGS/collect.log" | grep -v '^tests/kernels/test_cuda_' > "$LOGS/cuda_test_ids.txt"
  grep -qiE "errors? during collection|^ERROR" "$LOGS/collect.log" && { note "COLLECTION ERRORS:"; \
    grep -E "^ERROR|Error" "$LOGS/collect.log" | head -10 >> "$SUMMARY"; }
  run_one() {
    log=$LOGS/test_$(echo "$1" | md5sum | cut -c1-10).log
    CUDA_LAUNCH_BLOCKING=1 timeout 90 python3 -P -m pytest "$1" -q -p no:cacheprovider -rs > "$log" 2>&1
    rc=$?; echo "$rc $1" >> "$LOGS/cuda_test_rc.txt"
    [ $rc -ne 0 ] && [ $rc -ne 5 ] && { echo "=== $1 (rc $rc)"; grep -E "^E |\.py:[0-9]+:|Error" "$log" | head -25; } \
      >> "$LOGS/cuda_test_failures.txt"
    return 0
  }
  export -f run_one
  : > "$LOGS/cuda_test_rc.txt"; : > "$LOGS/cuda_test_failures.txt"
  # the whole stage inside the budget (each test inside 90 s): tests not reached have no rc line
  timeout --kill-after=5 $(( $(left) - 30 )) xargs -P 8 -I{} bash -c 'run_one "$@"' _ {} < "$LOGS/cuda_test_ids.txt"
  sort -k2 "$LOGS/cuda_test_rc.txt" -o "$LOGS/cuda_test_rc.txt"
  # rc 0: passed or skipped; which ones skipped (and why) is in each test's log (-rs)
  note "CUDA tests: $(grep -c '^0 ' "$LOGS/cuda_test_rc.txt") of $(wc -l < "$LOGS/cuda_test_rc.txt") run ($(wc -l < "$LOGS/cuda_test_ids.txt") collected) passed in $((SECONDS - t)) s; skipped: $(cat "$LOGS"/test_*.log | grep -c '^SKIPPED')"
  grep -v '^0 ' "$LOGS/cuda_test_rc.txt" | tee -a "$SUMMARY"
  head -60 "$LOGS/cuda_test_failures.txt" >> "$SUMMARY"
  python3 -P -m pytest tests/kernels/test_cuda_bindings.py tests/kernels/test_cuda_backend_calls.py -q \
    -p no:cacheprovider > "$LOGS/cuda_bindings.log" 2>&1
  note "CUDA binding checks rc=$?: $(tail -1 "$LOGS/cuda_bindings.log")"
fi

# ---- 3. compute-sanitizer memcheck --------------------------------------------
if ! want memcheck; then
  :
elif ! command -v compute-sanitizer > /dev/null; then
  note "SKIPPED compute-sanitizer: not on the PATH"
elif enough 150 "compute-sanitizer"; then
  t=$SECONDS
  check_one() {
    log=$LOGS/memcheck_$1.log
    timeout 90 compute-sanitizer --tool memcheck --error-exitcode 9 --print-limit 20 \
      python3 -P benchmarks/speed/gpu_check.py "$1" --device cuda > "$log" 2>&1
    rc=$?
    if grep -q "Device not supported" "$log"; then echo "memcheck $1: compute-sanitizer does not support this device"
    else echo "memcheck $1 rc=$rc $(grep -m1 'ERROR SUMMARY' "$log"); API errors: $(grep -c 'Program hit' "$log")"; fi
  }
  export -f check_one
  python3 -P benchmarks/speed/gpu_check.py all \
    | timeout --kill-after=5 $(( $(left) - 30 )) xargs -P 6 -I{} bash -c 'check_one "$@"' _ {} \
    | sort | tee -a "$SUMMARY"
  note "compute-sanitizer: $((SECONDS - t)) s (rc 9: errors found, 124: over 90 s)"
fi

# ---- 4. the issue's targets ---------------------------------------------------
if want targets && enough 90 "targets"; then
  t=$SECONDS
  timeout $(( $(left) - 20 )) python3 -P benchmarks/speed/gpu_targets.py --device cuda \
    --json "$LOGS/targets.json" > "$LOGS/targets.log" 2>&1
  note "targets rc=$? in $((SECONDS - t)) s:"; tail -15 "$LOGS/targets.log" >> "$SUMMARY"
  cp "$LOGS/targets.json" "$OUT/" 2>/dev/null
fi
if want targets && enough 90 "targets with CUPY_TF32=1"; then
  CUPY_TF32=1 timeout $(( $(left) - 20 )) python3 -P benchmarks/speed/gpu_targets.py --device cuda \
    --json "$LOGS/targets_tf32.json" > "$LOGS/targets_tf32.log" 2>&1
  note "targets (CUPY_TF32=1) rc=$?:"; tail -15 "$LOGS/targets_tf32.log" >> "$SUMMARY"
  cp "$LOGS/targets_tf32.json" "$OUT/" 2>/dev/null
fi

# ---- 5. benchmark suites vs PyTorch ---------------------------------------------
for suite in "${SUITES[@]}"; do
  IFS=: read -r name limit kexpr <<< "$suite"
  want suites && enough "$limit" "suite $name" || continue
  AUTOREC_BENCH_DEVICE=cuda timeout "$limit" python3 -P -m pytest "benchmarks/speed/test_${name}_bench.py" \
    ${kexpr:+-k "$kexpr"} --benchmark-enable -q -p no:cacheprovider --benchmark-json="$LOGS/gpu_${name}.json" \
    > "$LOGS/gpu_${name}.log" 2>&1
  rc=$?
  note "suite $name rc=$rc: $(grep -E 'passed|failed' "$LOGS/gpu_${name}.log" | tail -1)"
  [ -s "$LOGS/gpu_${name}.json" ] && python3 benchmarks/speed/report.py "$LOGS/gpu_${name}.json" \
    >> "$SUMMARY" 2>&1
done

# ---- 6. kernel profile ---------------------------------------------------------
if want profile && enough 45 "profile"; then
  timeout $(( $(left) - 5 )) python3 -P benchmarks/speed/gpu_profile.py autorec > "$LOGS/profile_autorec.log" 2>&1
  note "profile autorec rc=$?:"; sed -n '1,25p' "$LOGS/profile_autorec.log" >> "$SUMMARY"
fi
