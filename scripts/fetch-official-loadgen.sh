#!/usr/bin/env bash
# Fetches the official MLPerf LoadGen C++ sources (the PyPI sdist pinned in
# tools/official-loadgen.txt, verified by its sha256), unpacks them under
# target/official-loadgen/ and prints the line that points the build at them:
#
#   eval "$(scripts/fetch-official-loadgen.sh)"
#   cargo build --release --features official-loadgen
#
# Only the export line goes to stdout; progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/target/official-loadgen"
pin="$root/tools/official-loadgen.txt"
mkdir -p "$dest"

python3 -m pip download --quiet --disable-pip-version-check \
    --no-binary :all: --no-deps --require-hashes -r "$pin" -d "$dest" >&2

spec="$(grep -o '^mlcommons-loadgen==[^ ]*' "$pin")"
version="${spec#*==}"
tarball="$dest/mlcommons_loadgen-$version.tar.gz"
[ -f "$tarball" ] || { echo "error: pip saved no $tarball" >&2; exit 1; }
src="$dest/mlcommons_loadgen-$version"
# Unpack once: re-extracting would touch every file and make cargo rebuild
# LoadGen. The build verifies the files either way; remove the folder to
# start over.
if [ ! -f "$src/loadgen.h" ]; then
    tar -xzf "$tarball" -C "$dest"
fi
[ -f "$src/loadgen.h" ] || { echo "error: $tarball has no loadgen.h" >&2; exit 1; }
echo "official LoadGen $version sources in $src" >&2
echo "export MLPERF_LOADGEN_SRC=$src"
