#!/usr/bin/env bash
# Erlang distribution benchmark (benches/erlang/bench_dist.erl) between two Erlang nodes on
# this machine, over loopback: starts node B, runs the benchmark on node A, prints A's two
# RESULT lines (remote round trip in us, remote throughput in messages/s). Always stops
# node B, and the epmd daemon if this script's nodes started it. At most about 120 s.
# Usage: bash benches/erlang/dist.sh DIR   (DIR: the beams of `erlc -o DIR benches/erlang/*.erl`)
#
# Why `-name x@127.0.0.1` and not `-sname x`: with -sname a node is named after the
# machine's hostname, and reaching it means resolving that hostname. Where the hostname
# maps to a wrong or unreachable address (a stale /etc/hosts, a DNS answer for another
# machine) node A gets `pang` and never connects: tested by mapping the hostname to
# 192.0.2.1. A long name with the loopback address needs no name resolution and pins the
# traffic to loopback. (On a machine whose hostname resolves well, -sname works too.)
set -euo pipefail
beams=${1:?usage: dist.sh DIR (the compiled beams of benches/erlang)}
# Names unique to this run, so a leftover or concurrent run's node cannot answer instead.
node_a=lunatic_bench_a_$$@127.0.0.1
node_b=lunatic_bench_b_$$@127.0.0.1
# Nodes listen only on loopback (epmd too, if one of these nodes starts it); no crash dumps.
loopback=(-kernel inet_dist_use_interface '{127,0,0,1}')
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_CRASH_DUMP_SECONDS=0
epmd_was_running=no
epmd -names > /dev/null 2>&1 && epmd_was_running=yes

# Node B, in the background under its own 120 s limit (so it dies even if this script is
# killed outright); its output goes to stderr so stdout holds only the results.
timeout 120 erl -name "$node_b" -setcookie lunatic_bench -noshell -noinput "${loopback[@]}" \
  -pa "$beams" >&2 &
pid_b=$!
out=$(mktemp)
pid_a=""
cleanup() {
  # timeout passes the TERM on to the node; wait so both are gone before epmd is asked to
  # stop (`epmd -kill` refuses while any node is registered, so it never stops others').
  kill $pid_a "$pid_b" 2> /dev/null || true
  wait $pid_a "$pid_b" 2> /dev/null || true
  [ "$epmd_was_running" = yes ] || epmd -kill > /dev/null 2>&1 || true
  rm -f "$out"
}
trap cleanup EXIT

# Node A, in the background too so that cleanup can stop it: waits for B (up to 20 s),
# measures, halts B. Its RESULT lines go to stdout, anything else it printed (a crash
# report goes to stdout) to stderr.
timeout 110 erl -name "$node_a" -setcookie lunatic_bench -noshell -noinput "${loopback[@]}" \
  -pa "$beams" -run bench_dist main "$node_b" > "$out" &
pid_a=$!
status=0
wait "$pid_a" || status=$?
pid_a=""
grep '^RESULT ' "$out" || true
grep -v '^RESULT ' "$out" >&2 || true
exit "$status"
