#!/usr/bin/env bash
# The JavaScript host: the package guestmem-host (hosts/js) and its checks (hosts/js/test, a
# private package that installs it by file: and imports it as users do). Types, node:test over
# every example guest, the package's file list, the benchmark in quick mode, then the checks and
# the demo page in headless Chromium. Called by .ci/run after the guests are built.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Every guest of testdata/guests.tsv, as the harness keeps them (a no-op after .ci/guests.sh):
# the default builds are NAME.wasm there, whatever other step rebuilt a package since.
cargo run --quiet -p harness -- guests > /dev/null
export GUESTMEM_GUEST_DIR="${CARGO_TARGET_DIR:-$root/target}/guests"

echo "node $(node --version)"
(cd hosts/js/test && npm ci --no-audit --no-fund)

# TypeScript, no emit: the tests' JSDoc against the package's guestmem.d.ts, then the
# library's own JSDoc, and its hand-written guestmem.d.ts held to it (host-types.check.ts).
(cd hosts/js/test && npx --no-install tsc -p . && npx --no-install tsc -p tsconfig.host.json)

# Bounded: a hung guest or browser fails the run instead of stalling CI. The test files by name:
# given the directory, node would run every module under one named `test`.
bash .ci/node-test.sh hosts/js/test/*.test.mjs hosts/js/test/browser/*.test.mjs

# What `npm publish` would ship: the entry point, its modules, its types, README.md and
# package.json; not the tests.
expected='README.md guestmem.d.ts guestmem.mjs package.json src/abi.mjs src/bytes.mjs src/call-check.mjs src/errors.mjs src/guest.mjs src/host-functions.mjs src/interface.mjs src/load.mjs src/pool.mjs src/postcard.mjs src/result-block.mjs'
packed="$(cd hosts/js && npm pack --dry-run --json --ignore-scripts |
  node -e 'let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () =>
    console.log(JSON.parse(text)[0].files.map((file) => file.path).sort().join(" ")))')"
if [[ $packed != "$expected" ]]; then
  echo "npm pack in hosts/js lists: $packed" >&2
  echo "expected exactly: $expected" >&2
  exit 1
fi
echo "npm pack: $packed"

# A few seconds: it must run and print the ratios; the goal is enforced by a full run only.
timeout 120 node hosts/js/test/bench.mjs --quick

chromium="${CHROMIUM:-/usr/bin/chromium}"
[[ -x $chromium ]] || bash .ci/apt-install.sh chromium:chromium
"$chromium" --version
CHROMIUM="$chromium" timeout 600 node hosts/js/test/browser/run.mjs
