#!/usr/bin/env bash
# Harness CI: every check against every guest through wasmtime (its `cargo test` ran with the
# workspace's); the Valgrind run of the same build is .ci/valgrind.sh. Called by .ci/run once the wasm32 target is
# installed. One debug build serves every step.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n--- harness: %s (%ss)\n' "$1" "$SECONDS"; }
fail() { printf 'harness.sh: %s\n' "$1" >&2; exit 1; }

step "build"
cargo build -p harness
harness=./target/debug/harness
logs=target/harness-logs
mkdir -p "$logs"

step "run: build the guests, run every check"
"$harness"

step "done"
