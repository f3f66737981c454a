#!/usr/bin/env bash
# `bash .ci/built-once.sh CARGO_BUILD_ARGS...`: runs `cargo build ARGS` and fails if it had to
# compile wasmtime again after `cargo test --workspace` built it. A shared crate built with other
# features (dev-dependencies reach further in a test build) rebuilds everything above it, wasmtime
# and Cranelift included: minutes of CI. workspace-hack/ holds the features that keep the builds
# one; when this fails, its message names what to add there.
set -euo pipefail
cd "$(dirname "$0")/.."

rebuilt=$(cargo build "$@" --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and not message["fresh"]:
        print(message["target"]["name"])
')
if grep -qx "wasmtime" <<< "$rebuilt"; then
  echo "cargo build $* compiled wasmtime again after cargo test --workspace; it compiled:" >&2
  echo "$rebuilt" >&2
  echo "compare the features of these crates in 'cargo tree --workspace -e normal,build,dev -f \"{p} {f}\"' and in the build above, and add the test build's to workspace-hack/Cargo.toml" >&2
  exit 1
fi
echo "cargo build $*: wasmtime reused from the test build ($(grep -c . <<< "$rebuilt" || true) crates compiled)"
