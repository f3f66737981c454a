#!/usr/bin/env bash
# Builds every example guest for wasm32 with each allocator back end, keeps a copy of each in
# target/guests/BACKEND/, prints each module's size, then the sizes of the std and wasm32-wasip1
# builds, and compares minimal.wasm with its budget.
# Each example is built on its own, since cargo unifies features across packages built together.
# Ends with the default (talc) builds in target/wasm32-unknown-unknown/guest.
set -euo pipefail
cd "$(dirname "$0")/.."

examples=(array_sum upper replace echo minimal)
backends=(wee_alloc lol_alloc dlmalloc talc)
out=target/wasm32-unknown-unknown/guest
# GUESTMEM_MINIMAL_BUDGET lowers or raises it, e.g. to see the check fail.
minimal_budget=${GUESTMEM_MINIMAL_BUDGET:-2300}

printf '%-10s' "bytes"; printf ' %10s' "${backends[@]}"; echo
declare -A size
for backend in "${backends[@]}"; do
  for example in "${examples[@]}"; do
    cargo build --quiet --profile guest --target wasm32-unknown-unknown -p "$example" \
      --no-default-features --features "$backend"
    mkdir -p "target/guests/$backend"
    cp "$out/$example.wasm" "target/guests/$backend/"
    size[$example,$backend]=$(stat -c %s "$out/$example.wasm")
  done
done
for example in "${examples[@]}"; do
  printf '%-10s' "$example"
  for backend in "${backends[@]}"; do printf ' %10s' "${size[$example,$backend]}"; done
  echo
done

# Guests as people write them: word_count uses std; on wasm32-wasip1, the no_std examples too.
# Each is built on its own (with talc), since `std` must not unify into the no_std guests.
echo
printf '%-10s %22s %14s\n' "bytes" "wasm32-unknown-unknown" "wasm32-wasip1"
for example in array_sum upper replace echo minimal word_count wasi_env; do
  printf '%-10s' "$example"
  for target in wasm32-unknown-unknown wasm32-wasip1; do
    if [ "$example" = wasi_env ] && [ "$target" = wasm32-unknown-unknown ]; then
      printf ' %22s' "(WASI only)"
      continue
    fi
    cargo build --quiet --profile guest --target "$target" -p "$example"
    width=22; [ "$target" = wasm32-wasip1 ] && width=14
    printf " %${width}s" "$(stat -c %s "target/$target/guest/$example.wasm")"
  done
  echo
done
# (Each example's default feature is talc: the wasm32-unknown-unknown builds left in place are
# still the talc builds this script promises.)

minimal=${size[minimal,talc]}
cargo build --quiet --profile guest --target wasm32-unknown-unknown -p bare_talc
bare=$(stat -c %s "$out/bare_talc.wasm")
echo "minimal.wasm with talc: $minimal bytes (budget $minimal_budget); talc alone with alloc and dealloc (bare_talc.wasm): $bare bytes, so the ABI adds $((minimal - bare))"
if [ "$minimal" -gt "$minimal_budget" ]; then
  echo "minimal.wasm is $((minimal - minimal_budget)) bytes over its budget of $minimal_budget" >&2
  exit 1
fi
