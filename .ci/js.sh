#!/usr/bin/env bash
# The JavaScript host (harness/js): node:test over every example guest, then the same checks and
# the demo page in headless Chromium. Called by .ci/run after the guests are built.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The default (talc) builds, which the checks expect: a no-op when .ci/guests.sh left them in
# place, and a rebuild when another step left another back end's modules there. minimal is built
# on its own: features unify, and it must not get `stats` from the others.
cargo build --quiet --profile guest --target wasm32-unknown-unknown -p minimal
cargo build --quiet --profile guest --target wasm32-unknown-unknown -p array_sum -p upper -p replace -p echo
if [[ -n ${CARGO_TARGET_DIR:-} ]]; then
  export GUESTMEM_GUEST_DIR="$CARGO_TARGET_DIR/wasm32-unknown-unknown/guest"
fi

echo "node $(node --version)"
(cd harness/js && npm ci --no-audit --no-fund)

# The JSDoc types editors complete from, checked with TypeScript (no emit).
(cd harness/js && npx --no-install tsc -p .)

# Bounded: a hung guest or browser fails the run instead of stalling CI.
timeout 600 node --test harness/js

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x $chromium ]]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
"$chromium" --version
CHROMIUM="$chromium" timeout 600 node harness/js/browser/run.mjs
