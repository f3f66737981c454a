#!/usr/bin/env bash
# The Valgrind leak check of the whole harness (the debug build .ci/harness.sh made, on the guests
# it built), with its proof: the planted leak must fail it. It runs on one core for minutes, so
# .ci/run starts it beside the steps that follow the harness's; it runs a copy of the binary,
# which those steps' cargo commands cannot replace under it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n--- valgrind: %s (%ss)\n' "$1" "$SECONDS"; }
fail() { printf 'valgrind.sh: %s\n' "$1" >&2; exit 1; }

bash .ci/apt-install.sh valgrind:valgrind

logs=target/harness-logs
mkdir -p "$logs"
harness=$logs/harness
cp target/debug/harness "$harness"

step "the whole harness must be clean"
# Two processes, one core each: the conformance check (about two thirds of the run) beside every
# other check. The rest of CI is over before Valgrind is, so the second core would idle.
check_log() {
  local log=$1 status=$2
  cat "$log"
  [ "$status" -eq 0 ] || fail "valgrind run failed with status $status ($log)"
  grep -q "running under Valgrind" "$log" || fail "the harness did not detect Valgrind ($log)"
  grep -q "ERROR SUMMARY: 0 errors" "$log" || fail "valgrind reported errors ($log)"
  grep -Eq "definitely lost: 0 bytes|no leaks are possible" "$log" \
    || fail "valgrind did not report 'definitely lost: 0 bytes' ($log)"
}
valgrind --leak-check=full --error-exitcode=1 "$harness" --no-build --only conformance \
  >"$logs/valgrind-conformance.log" 2>&1 &
conformance=$!
status=0
valgrind --leak-check=full --error-exitcode=1 "$harness" --no-build --skip conformance \
  >"$logs/valgrind.log" 2>&1 || status=$?
conformance_status=0
wait "$conformance" || conformance_status=$?
check_log "$logs/valgrind.log" "$status"
check_log "$logs/valgrind-conformance.log" "$conformance_status"

step "--plant-leak: must fail, for the leak"
# The native check alone, then the planted leak: the run above showed the rest clean.
status=0
valgrind --leak-check=full --error-exitcode=1 "$harness" --no-build --only native --plant-leak \
  >"$logs/valgrind-plant-leak.log" 2>&1 || status=$?
grep -E "plant-leak|definitely lost|ERROR SUMMARY" "$logs/valgrind-plant-leak.log" || true
[ "$status" -ne 0 ] || fail "valgrind passed a run with a planted leak"
grep -q "^[0-9]* of [0-9]* rows passed" "$logs/valgrind-plant-leak.log" || fail "the planted-leak run did not finish its checks"
grep -Eq "definitely lost: [1-9][0-9,]* bytes" "$logs/valgrind-plant-leak.log" \
  || fail "the planted-leak run failed (status $status), but not with a definite leak"
grep -q "echo::echo" "$logs/valgrind-plant-leak.log" \
  || fail "the definite leak was not allocated through the natively linked echo guest"
echo "planted leak caught: valgrind exited with $status"

step "done"
