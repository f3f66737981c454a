#!/usr/bin/env bash
# `node --test ARGS`, bounded, and run once more only when it hangs: node 20 can deadlock idle
# between a background compile and the garbage collector (nodejs/node#54918; a gdb trace of a
# hang here showed it, about 1 run in 8 of hosts/js/test/variants.test.mjs). A failing test fails at
# once; only a timeout (exit 124) is retried.
set -uo pipefail
for attempt in 1 2; do
  timeout 300 node --test "$@"
  status=$?
  if [ "$status" -ne 124 ]; then
    exit "$status"
  fi
  echo "node --test $* hung (attempt $attempt of 2)" >&2
done
exit 124
