#!/usr/bin/env bash
# Runs the test suite and ends with one line CI can read: "N passed, N failed".
#   tests/run.sh [unit|integration|fuzz|all]
# Unit tests are the cmocka binaries under build/asan/tests (ASan/UBSan); integration tests
# are node scripts under tests/integration that start the real server (build/asan/mcu);
# fuzz smoke runs each libFuzzer target briefly over its seed corpus.
set -u
cd "$(dirname "$0")/.."
what="${1:-all}"
passed=0 failed=0
failures=()
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export MCU_SRCDIR="$PWD"

count_cmocka() { # $1 = log file; adds cmocka's own per-test counts
    local p f
    p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$1" | awk '{s+=$4} END {print s+0}')
    f=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
    echo "$p $f"
}

run_unit() {
    local t log p f
    for t in build/asan/tests/test_*; do
        [ -x "$t" ] || continue
        log="build/test-logs/$(basename "$t").log"
        mkdir -p build/test-logs
        if timeout 300 "$t" >"$log" 2>&1; then :; fi
        rc=$?
        read -r p f < <(count_cmocka "$log")
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed, or a sanitizer fired
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$rc" -ne 0 ]; then
            failures+=("$(basename "$t")"); echo "FAIL $(basename "$t") (log: $log)"; tail -30 "$log"
        else
            echo "ok   $(basename "$t"): $p passed"
        fi
    done
}

run_integration() {
    local t log
    mkdir -p build/test-logs
    for t in tests/integration/*.test.mjs; do
        [ -f "$t" ] || continue
        log="build/test-logs/$(basename "$t").log"
        timeout 600 node --test --test-reporter=tap "$t" >"$log" 2>&1
        rc=$?
        p=$(grep -E '^# pass ' "$log" | awk '{s+=$3} END {print s+0}')
        f=$(grep -E '^# fail ' "$log" | awk '{s+=$3} END {print s+0}')
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$rc" -ne 0 ]; then
            failures+=("$(basename "$t")"); echo "FAIL $(basename "$t") (log: $log)"; tail -60 "$log"
        else
            echo "ok   $(basename "$t"): $p passed"
        fi
    done
}

run_fuzz() {
    local f name corpus
    for f in build/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        name=$(basename "$f" | sed 's/^fuzz_//')
        corpus=$(mktemp -d)
        [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
        # A UBSan report must fail the run even from a binary built in recover mode.
        if UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
               timeout 120 "$f" -max_total_time="${FUZZ_SMOKE_SECONDS:-10}" -rss_limit_mb=2048 "$corpus" \
               >"build/test-logs/fuzz_$name.log" 2>&1 &&
               ! grep -q 'runtime error:' "build/test-logs/fuzz_$name.log"; then
            passed=$((passed + 1)); echo "ok   fuzz_$name: $(grep -Eo '#[0-9]+' "build/test-logs/fuzz_$name.log" | tail -1) runs"
        else
            failed=$((failed + 1)); failures+=("fuzz_$name"); echo "FAIL fuzz_$name"; tail -40 "build/test-logs/fuzz_$name.log"
        fi
        rm -rf "$corpus"
    done
}

mkdir -p build/test-logs
case "$what" in
    unit) run_unit ;;
    integration) run_integration ;;
    fuzz) run_fuzz ;;
    all) run_unit; run_integration; run_fuzz ;;
    *) echo "usage: $0 [unit|integration|fuzz|all]"; exit 2 ;;
esac
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
