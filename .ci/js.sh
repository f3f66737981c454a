#!/usr/bin/env bash
# The JavaScript host (harness/js): node:test over every example guest, then the same checks and
# the demo page in headless Chromium. Called by .ci/run after the guests are built; builds them
# itself if they are missing (cheap when they are up to date).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

guest_dir=target/wasm32-unknown-unknown/guest
if [[ ! -f $guest_dir/minimal.wasm ]]; then
  # Built on its own: features unify, and minimal must not get `stats` from the others.
  cargo build --profile guest --target wasm32-unknown-unknown -p minimal
fi
for guest in array_sum upper replace echo; do
  if [[ ! -f $guest_dir/$guest.wasm ]]; then
    cargo build --profile guest --target wasm32-unknown-unknown -p array_sum -p upper -p replace -p echo
    break
  fi
done

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
