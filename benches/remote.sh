#!/usr/bin/env bash
# Runs the remote benchmark (benches/remote.rs) on two nodes on loopback: node b serves,
# node a measures and prints its RESULT lines. Usage: benches/remote.sh VM GUEST.WASM.
# Certificates are made in a scratch folder; node b is stopped however this ends.
set -euo pipefail
vm=$1
guest=$2
dir=$(mktemp -d)
b_pid=
cleanup() {
  if [ -n "$b_pid" ]; then
    kill "$b_pid" 2> /dev/null || true
    wait "$b_pid" 2> /dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
"$vm" cluster-certs "$dir" --nodes a,b > /dev/null
# Two free UDP ports.
read -r pa pb < <(python3 -c 'import socket
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
node() { # name port other-port
  echo --node "$1" --listen "127.0.0.1:$2" --join "127.0.0.1:$3" \
    --cluster-ca "$dir/ca.pem" --cert "$dir/$1.pem" --key "$dir/$1.key"
}
# shellcheck disable=SC2046
timeout 300 "$vm" ${LUNATIC_BENCH_VM_ARGS:-} $(node b "$pb" "$pa") "$guest" serve > "$dir/b.out" 2> "$dir/b.err" &
b_pid=$!
until grep -qs ready "$dir/b.out"; do sleep 0.1; done
# shellcheck disable=SC2046
timeout 300 "$vm" ${LUNATIC_BENCH_VM_ARGS:-} $(node a "$pa" "$pb") "$guest" measure
