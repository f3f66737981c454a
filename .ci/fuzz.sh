#!/usr/bin/env bash
# Fuzzing (fuzz/README.md): installs cargo-fuzz, builds the three targets, runs each for a
# bounded time from its committed corpus and regressions, and fails on the first crash (the
# input is left in fuzz/artifacts/TARGET/ and printed). New inputs go to a scratch directory:
# the committed corpus changes only by hand (cargo fuzz cmin). Called by .ci/run, which builds
# (`fuzz.sh build`, both cores) and then runs the targets (`fuzz.sh run`, one core) beside its
# other steps; no argument does both.
set -euo pipefail
phase="${1:-all}"
cd "$(dirname "$0")/../fuzz"

# Seconds per target: GUESTMEM_FUZZ_SECONDS overrides.
seconds="${GUESTMEM_FUZZ_SECONDS:-30}"
version=0.13.2

timed() {
  local start=$SECONDS status=0
  "$@" || status=$?
  echo "[fuzz] $((SECONDS - start))s: $*"
  return "$status"
}

host=(--dev -s none --features host --target-dir target/host)

if [[ $phase != run ]]; then
  # libfuzzer-sys compiles libFuzzer, which is C++.
  bash ../.ci/apt-install.sh c++:g++

  if [[ "$(cargo +nightly fuzz --version 2>/dev/null || true)" != "cargo-fuzz $version" ]]; then
    timed cargo +nightly install cargo-fuzz --version "$version" --locked
  fi

  # abi_sequence and export_input run guestmem's unsafe code natively: AddressSanitizer (the
  # default) sees what the model cannot. host_reader drives the host library's readers, which are safe
  # code, through wasmtime: without a sanitizer, in a target directory of its own so that the two
  # builds do not evict each other, and unoptimized (fuzz/README.md, "What it costs": the release
  # build of wasmtime took CI over 20 minutes).
  timed cargo +nightly fuzz build abi_sequence
  timed cargo +nightly fuzz build export_input
  timed cargo +nightly fuzz build "${host[@]}" host_reader
fi
if [[ $phase == build ]]; then
  exit 0
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in abi_sequence export_input host_reader; do
  options=()
  if [[ $target == host_reader ]]; then
    options=("${host[@]}")
  fi
  # New inputs go to the first directory, the scratch one; the committed ones only seed.
  dirs=("$scratch/$target")
  for dir in "corpus/$target" "regressions/$target"; do
    if [[ -d $dir ]]; then
      dirs+=("$dir")
    fi
  done
  mkdir -p "$scratch/$target"
  # -timeout: a single input running 10 s is a hang, and fails like a crash.
  log="$scratch/$target.log"
  if ! timed cargo +nightly fuzz run "${options[@]}" "$target" "${dirs[@]}" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 > "$log" 2>&1; then
    tail -n 80 "$log" >&2
    echo "fuzz target $target failed: the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  # What libFuzzer ends with: executions, coverage (cov:) and features (ft:), speed.
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^\[fuzz\]' "$log"
done
