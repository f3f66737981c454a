#!/usr/bin/env bash
# Builds every guest of testdata/guests.tsv into target/guests (the harness reads the table), runs
# wasm-opt over each into target/guests-opt (same names, so every check can run against them),
# prints the module sizes before and after (each example with each allocator back end, then the
# std and wasm32-wasip1 builds), and compares minimal.wasm with its budgets.
set -euo pipefail
cd "$(dirname "$0")/.."

# GUESTMEM_MINIMAL_BUDGET and GUESTMEM_MINIMAL_OPT_BUDGET (after wasm-opt) lower or raise them,
# e.g. to see the check fail. The issue's goal after wasm-opt is 1,750 bytes: not reached yet.
minimal_budget=${GUESTMEM_MINIMAL_BUDGET:-2300}
minimal_opt_budget=${GUESTMEM_MINIMAL_OPT_BUDGET:-1900}
guests=target/guests
optimized=target/guests-opt
table=testdata/guests.tsv

# wasm-opt from binaryen, the version .ci/wasm-opt/package-lock.json pins; installed when missing.
tool=.ci/wasm-opt
wasm_opt=$tool/node_modules/.bin/wasm-opt
version() { node -p "require('./$1').$2" 2>/dev/null || true; }
binaryen=$(version "$tool/package-lock.json" 'packages["node_modules/binaryen"].version')
if [ "$(version "$tool/node_modules/binaryen/package.json" version)" != "$binaryen" ]; then
  (cd "$tool" && npm ci --no-audit --no-fund --loglevel=error)
fi
# -Oz for size; --converge repeats it while the module still shrinks. No flag that assumes away
# a trap (--ignore-implicit-traps, --traps-never-happen): guestmem's guarantees are traps with
# reasons. The modules are stripped, so their target features are not in them: these are
# rustc 1.95's for wasm32, with bulk-memory-opt (memory.copy, memory.fill: what LLVM emits)
# instead of bulk-memory, whose DataCount section would add 3 bytes.
opt_flags=(-Oz --converge)
features=(--enable-bulk-memory-opt --enable-multivalue --enable-mutable-globals
  --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext)

cargo run --quiet -p harness -- guests > /dev/null
mapfile -t modules < <(awk -F'\t' '!/^#/ && NF { print $1 }' "$table")

# A module is optimized again only when it or the command changed (a hash of both is kept in
# $optimized/keys), so a second run, such as CI's budget checks, costs seconds.
optimize() {
  local module=$1 key
  key=$({ cat "$guests/$module.wasm"; echo "binaryen $binaryen ${*:2}"; } | sha256sum | cut -c1-64)
  if [ -f "$optimized/$module.wasm" ] && [ "$(cat "$optimized/keys/$module" 2>/dev/null)" = "$key" ]; then
    return
  fi
  "$wasm_opt" "${@:2}" "$guests/$module.wasm" -o "$optimized/$module.wasm"
  echo "$key" > "$optimized/keys/$module"
}
export -f optimize
export guests optimized wasm_opt binaryen
mkdir -p "$optimized/keys"
printf '%s\n' "${modules[@]}" |
  xargs -P "$(nproc)" -I '{}' bash -c 'optimize "$@"' _ '{}' "${features[@]}" "${opt_flags[@]}"

size() { stat -c %s "$guests/$1.wasm"; }
opt_size() { stat -c %s "$optimized/$1.wasm"; }
both() { echo "$(size "$1") / $(opt_size "$1")"; }

# The back ends are the examples' cargo features; the examples, the modules built with talc.
backends=(wee_alloc lol_alloc dlmalloc talc)
mapfile -t examples < <(awk -F'\t' '!/^#/ && $1 ~ /-talc$/ { sub(/-talc$/, "", $1); print $1 }' "$table")

echo "bytes before / after wasm-opt ${opt_flags[*]}"
printf '%-10s' ""; printf ' %15s' "${backends[@]}"; echo
for example in "${examples[@]}"; do
  printf '%-10s' "$example"
  for backend in "${backends[@]}"; do printf ' %15s' "$(both "$example-$backend")"; done
  echo
done

# Guests as people write them: word_count uses std; on wasm32-wasip1, every example (talc).
echo
printf '%-10s %22s %15s\n' "" "wasm32-unknown-unknown" "wasm32-wasip1"
for example in "${examples[@]}" word_count wasi_env; do
  native=$example-talc
  [ "$example" = word_count ] && native=word_count
  if [ -f "$guests/$native.wasm" ] && [ "$example" != wasi_env ]; then native=$(both "$native"); else native="(WASI only)"; fi
  printf '%-10s %22s %15s\n' "$example" "$native" "$(both "$example-wasip1")"
done

minimal=$(size minimal-talc)
minimal_opt=$(opt_size minimal-talc)
bare=$(size bare_talc)
bare_opt=$(opt_size bare_talc)
echo "minimal.wasm with talc: $minimal bytes (budget $minimal_budget), $minimal_opt after wasm-opt (budget $minimal_opt_budget);" \
  "talc alone with alloc and dealloc (bare_talc.wasm): $bare bytes, $bare_opt after wasm-opt, so the ABI adds $((minimal - bare)), $((minimal_opt - bare_opt)) after"
status=0
if [ "$minimal" -gt "$minimal_budget" ]; then
  echo "minimal.wasm is $((minimal - minimal_budget)) bytes over its budget of $minimal_budget" >&2
  status=1
fi
if [ "$minimal_opt" -gt "$minimal_opt_budget" ]; then
  echo "minimal.wasm after wasm-opt is $((minimal_opt - minimal_opt_budget)) bytes over its budget of $minimal_opt_budget" >&2
  status=1
fi
exit "$status"
