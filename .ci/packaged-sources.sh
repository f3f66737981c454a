#!/usr/bin/env bash
# `bash .ci/packaged-sources.sh PACKAGE CRATE`: fails unless `cargo package --list -p PACKAGE`
# holds every file of the package that the workspace's builds of its library read (the sources,
# and what they include, such as the README). It stands in for `cargo package`'s verification
# build where that build would compile wasmtime once more.
set -euo pipefail
cd "$(dirname "$0")/.."
package=$1 crate=$2

cargo package -q --list --allow-dirty -p "$package" > "target/$package.list"
python3 - "$package" "$crate" "target/$package.list" <<'PY'
import glob, json, os, subprocess, sys

package, crate, listing = sys.argv[1:]
metadata = json.loads(subprocess.run(
    ["cargo", "metadata", "--no-deps", "--format-version", "1"],
    check=True, capture_output=True, text=True).stdout)
root = next(os.path.dirname(p["manifest_path"]) for p in metadata["packages"] if p["name"] == package)
listed = {line.strip() for line in open(listing) if line.strip()}
read = set()
infos = glob.glob(f"target/debug/deps/{crate}-*.d")
for info in infos:
    first = open(info).read().split("\n", 1)[0]
    for path in first.split(":", 1)[1].split():
        path = os.path.abspath(path)
        if path.startswith(root + os.sep):
            read.add(os.path.relpath(path, root))
if not read:
    sys.exit(f"no build of {crate} in target/debug/deps: build the workspace first")
missing = sorted(read - listed)
if missing:
    sys.exit(f"cargo package -p {package} leaves out files its build reads: {', '.join(missing)}")
print(f"{package}: the package holds all {len(read)} files its builds read ({len(infos)} builds)")
PY
