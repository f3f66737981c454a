#!/usr/bin/env bash
# Builds every guest of harness/guests.tsv into target/guests (the harness reads the table),
# prints the module sizes (each example with each allocator back end, then the std and
# wasm32-wasip1 builds), and compares minimal.wasm with its budget.
set -euo pipefail
cd "$(dirname "$0")/.."

# GUESTMEM_MINIMAL_BUDGET lowers or raises it, e.g. to see the check fail.
minimal_budget=${GUESTMEM_MINIMAL_BUDGET:-2300}
guests=target/guests
table=harness/guests.tsv

cargo run --quiet -p harness -- guests > /dev/null
size() { stat -c %s "$guests/$1.wasm"; }

# The back ends are the examples' cargo features; the examples, the modules built with talc.
backends=(wee_alloc lol_alloc dlmalloc talc)
mapfile -t examples < <(awk -F'\t' '!/^#/ && $1 ~ /-talc$/ { sub(/-talc$/, "", $1); print $1 }' "$table")

printf '%-10s' "bytes"; printf ' %10s' "${backends[@]}"; echo
for example in "${examples[@]}"; do
  printf '%-10s' "$example"
  for backend in "${backends[@]}"; do printf ' %10s' "$(size "$example-$backend")"; done
  echo
done

# Guests as people write them: word_count uses std; on wasm32-wasip1, every example (talc).
echo
printf '%-10s %22s %14s\n' "bytes" "wasm32-unknown-unknown" "wasm32-wasip1"
for example in "${examples[@]}" word_count wasi_env; do
  native=$example-talc
  [ "$example" = word_count ] && native=word_count
  if [ -f "$guests/$native.wasm" ] && [ "$example" != wasi_env ]; then native=$(size "$native"); else native="(WASI only)"; fi
  printf '%-10s %22s %14s\n' "$example" "$native" "$(size "$example-wasip1")"
done

minimal=$(size minimal-talc)
bare=$(size bare_talc)
echo "minimal.wasm with talc: $minimal bytes (budget $minimal_budget); talc alone with alloc and dealloc (bare_talc.wasm): $bare bytes, so the ABI adds $((minimal - bare))"
if [ "$minimal" -gt "$minimal_budget" ]; then
  echo "minimal.wasm is $((minimal - minimal_budget)) bytes over its budget of $minimal_budget" >&2
  exit 1
fi
