#!/usr/bin/env bash
# The Python host (hosts/python): installed from its directory into a fresh venv, mypy --strict,
# pytest over every example guest and allocator back end, the guests that import host functions
# (greet, imports), every guest's interface section (its describe text against the Rust CLI's
# `guestmem describe` when target/debug/guestmem exists, as after a `cargo build` of cli/; the
# comparison is skipped, with its reason, otherwise), the shared cases of testdata/ and shapes'
# typed values, the benchmark in quick mode, and `python -m guestmem describe`. The guests come
# from .ci/guests.sh, which .ci/run runs first; built here when any is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

for guest in guests/echo-dlmalloc guests/wasi_env-wasip1 guests/imports guests/greet-wasip1 \
  guests/shapes guests/shapes-json guests/shapes-postcard guests/shapes-none \
  wasm32-unknown-unknown/guest/upper wasm32-unknown-unknown/guest/greet \
  wasm32-unknown-unknown/guest/shapes; do
  if [[ ! -f target/$guest.wasm ]]; then
    bash .ci/guests.sh
    break
  fi
done

python3 --version
venv=target/venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check './hosts/python[test]'
"$venv/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(guestmem-host|wasmtime|pytest|mypy) '

(cd hosts/python && "../../$venv/bin/mypy")
# The tests run against the installed package, not the source tree; they find testdata/ from
# their own directory (hosts/python/tests/../../../testdata), which the package does not carry.
(cd hosts/python && timeout 900 "../../$venv/bin/python" -m pytest -q -rs)
"$venv/bin/python" hosts/python/bench/echo.py --quick
"$venv/bin/python" -m guestmem describe target/wasm32-unknown-unknown/guest/upper.wasm
"$venv/bin/python" -m guestmem describe --abi target/wasm32-unknown-unknown/guest/upper.wasm
