#!/usr/bin/env bash
# Installs the Debian packages whose commands are missing, each given as COMMAND:PACKAGE
# (`bash .ci/apt-install.sh valgrind:valgrind c++:g++`): one `apt-get update` for all of them,
# none when nothing is missing. .ci/run calls it first, so that no two apt-get runs overlap once
# steps run beside each other.
set -euo pipefail

missing=()
for pair in "$@"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
[ "${#missing[@]}" -gt 0 ] || exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
