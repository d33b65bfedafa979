#!/usr/bin/env bash
# Compares this tree's VM with the one of git revision BASE in paired runs: the spawn and
# round-trip benchmarks, alternating base and new, each build with its own guest library.
# This machine's speed drifts by up to 2x over minutes; only runs side by side compare.
# Usage: bash benches/compare.sh BASE [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
base=$1
rounds=${2:-7}
root=$PWD
work=$(mktemp -d)
# The base's checkout always sits at one path, so its build stays incremental between runs.
src=$root/target/compare-base/src
cleanup() { git worktree remove --force "$src" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
git worktree remove --force "$src" >/dev/null 2>&1 || true
mkdir -p "$(dirname "$src")"
git worktree add --quiet --detach "$src" "$base"

# Builds the tree in $1 into target directory $2 and copies the VM and the two guests to
# $3. The base gets a target directory of its own (kept between runs in
# target/compare-base): cargo names a workspace's crates by their path within the
# workspace, so two checkouts sharing one would overwrite each other's builds.
build() {
  (cd "$1" && CARGO_TARGET_DIR="$2" cargo build --quiet --release -p lunatic-vm --bin lunatic &&
    CARGO_TARGET_DIR="$2" cargo build --quiet --release -p lunatic --target wasm32-wasip1 \
      --example bench-spawn --example bench-roundtrip)
  mkdir -p "$3"
  cp "$2/release/lunatic" "$3/"
  cp "$2/wasm32-wasip1/release/examples/bench-spawn.wasm" \
    "$2/wasm32-wasip1/release/examples/bench-roundtrip.wasm" "$3/"
}
build "$src" "$root/target/compare-base" "$work/base"
build "$root" "$root/target" "$work/new"

out=$work/results
for _ in $(seq "$rounds"); do
  for side in base new; do
    "$work/$side/lunatic" "$work/$side/bench-spawn.wasm" | sed "s/^RESULT /RESULT ${side}_/" >> "$out"
    "$work/$side/lunatic" "$work/$side/bench-roundtrip.wasm" | sed "s/^RESULT /RESULT ${side}_/" >> "$out"
  done
done
awk '$1 == "RESULT" { values[$2] = values[$2] " " $3 }
     END { for (key in values) print key values[key] }' "$out" | sort |
  while read -r key values; do
    median=$(tr ' ' '\n' <<< "$values" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    echo "$key median $median (runs:$values)"
  done
