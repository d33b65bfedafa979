#!/usr/bin/env bash
# Runs the benchmark suite: each program on the VM and its native tokio baseline, in the
# same run, and the Erlang/OTP programs of benches/erlang beside the VM's spawn, round-trip,
# park and skynet runs; rewrites BENCHMARKS.md with the figures, the ratios and the machine.
# Usage: bash benches/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The Erlang side needs erl and erlc (Debian: erlang-base). As root with apt-get, install it;
# otherwise say how, and run the VM's side alone (the Erlang rows say they were skipped).
if ! command -v erl > /dev/null || ! command -v erlc > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "installing erlang-base (apt-get) for the Erlang side" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq erlang-base > /dev/null 2>&1 ||
      { apt-get update -qq > /dev/null 2>&1 && apt-get install -y -qq erlang-base > /dev/null 2>&1; } || true
  fi
fi
erl_beams=""
if command -v erl > /dev/null && command -v erlc > /dev/null; then
  erl_beams=$(mktemp -d)
  erlc -o "$erl_beams" benches/erlang/*.erl
  otp=$(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')
else
  echo "NOTE: no Erlang/OTP here (erl, erlc), so the Erlang side is skipped." \
    "Install it with \`apt-get install erlang-base\` (as root) and run again." >&2
fi
# Runs an Erlang benchmark in a VM of its own: erl_run [ERL_FLAGS...] -run MODULE main [ARGS...].
# Default flags, as Erlang users start it. Without Erlang, prints nothing. A failure costs
# only that run's Erlang figures (with a note), not the suite, and leaves no erl_crash.dump.
erl_run() {
  [ -n "$erl_beams" ] || return 0
  ERL_CRASH_DUMP_SECONDS=0 erl -noshell -pa "$erl_beams" "$@" ||
    echo "NOTE: Erlang run failed: erl $*" >&2
}

rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
cargo build --quiet --release --package lunatic-vm --bin lunatic
cargo build --quiet --release --package lunatic --target wasm32-wasip1 --example bench-spawn --example bench-roundtrip --example bench-park --example bench-many-to-one --example bench-ring --example bench-payload --example bench-fanout --example bench-actors --example bench-skynet --example bench-remote --example net_echo
vm=target/release/lunatic
guests=target/wasm32-wasip1/release/examples

results=$(mktemp)
# CPU time the hypervisor gave to others while this machine's cores wanted it (the steal
# column of /proc/stat): "total steal" in clock ticks, to say how much of a run's drift
# was the host's.
cpu_ticks() { awk '$1 == "cpu" { total = 0; for (i = 2; i <= 9; i++) total += $i; print total, $9 }' /proc/stat; }
stolen_percent() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; printf "%.1f", (t > 0 ? 100 * (y[2] - x[2]) / t : 0) }'; }
suite_start=$(cpu_ticks)
trap 'rm -f "$results"; rm -rf "$erl_beams"' EXIT
# Prints each RESULT of file $1 as the median of its values, with the values.
medians() {
  awk '$1 == "RESULT" { values[$2] = values[$2] " " $3 }
       END { for (key in values) print key values[key] }' "$1" |
    while read -r key values; do
      median=$(tr ' ' '\n' <<< "$values" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
      echo "RESULT $key $median (runs: $values)"
    done
}
# Runs a VM benchmark $1 times; each RESULT gets the median of its runs (message passing on
# 2 cores varies from run to run with the kernel's scheduling: now and then a run is half
# as fast).
median_runs() {
  local runs=$1 out
  shift
  out=$(mktemp)
  for _ in $(seq "$runs"); do "$vm" "$@" >> "$out"; done
  medians "$out"
  rm -f "$out"
}

# Spawns: 5 runs, each beside a native run and an Erlang one (benches/erlang/bench_spawn.erl:
# the same 11 rounds of 2,000 parked processes, killed between rounds).
spawns=$(mktemp)
for _ in $(seq 5); do
  "$vm" "$guests/bench-spawn.wasm" >> "$spawns"
  erl_run -run bench_spawn main >> "$spawns"
  cargo bench --quiet --package lunatic-vm --bench native_baseline -- spawn | sed 's/native_spawn_parked_us/native_spawn_parked_paired_us/' >> "$spawns"
done
medians "$spawns" | tee -a "$results"
rm -f "$spawns"
# Round trips: 5 runs on 2 workers and on 1, each beside a native run and an Erlang one
# (benches/erlang/bench_roundtrip.erl: `{self(), N}` to an echo process, and gen_server:call)
# (the machine's speed drifts over minutes; runs side by side see the same machine).
trips=$(mktemp)
trips_start=$(cpu_ticks)
for _ in $(seq 5); do
  "$vm" "$guests/bench-roundtrip.wasm" >> "$trips"
  "$vm" --workers 1 "$guests/bench-roundtrip.wasm" | sed 's/^RESULT \([a-z_]*\)_us/RESULT \1_1_worker_us/' >> "$trips"
  cargo bench --quiet --package lunatic-vm --bench native_baseline -- roundtrip | sed 's/native_roundtrip_us/native_roundtrip_paired_us/' >> "$trips"
  erl_run -run bench_roundtrip main >> "$trips"
done
medians "$trips" | tee -a "$results"
trips_stolen=$(stolen_percent "$trips_start" "$(cpu_ticks)")
rm -f "$trips"
# The floor under a process (benches/wasm_floor.rs): what wasmtime itself costs, on the VM's
# engine settings, to make, park and message the least process and to instantiate this
# suite's guest program. 3 runs, the median of each figure.
floors=$(mktemp)
for _ in $(seq 3); do
  cargo bench --quiet --package lunatic-vm --bench wasm_floor -- "$PWD/$guests/bench-park.wasm" >> "$floors"
done
medians "$floors" | tee -a "$results"
rm -f "$floors"
median_runs 3 "$guests/bench-ring.wasm" | tee -a "$results"
# The same ring on Erlang (benches/erlang/bench_ring.erl), 3 runs.
rings=$(mktemp)
for _ in $(seq 3); do erl_run -run bench_ring main >> "$rings"; done
medians "$rings" | tee -a "$results"
rm -f "$rings"
# 3 runs of guest $1 on the VM, each followed by the Erlang module $2 doing the same work,
# both given the arguments after these two; prints the medians of both.
beside_erlang() {
  local out guest=$1 module=$2
  shift 2
  out=$(mktemp)
  for _ in $(seq 3); do
    "$vm" "$guests/$guest.wasm" "$@" >> "$out"
    erl_run -run "$module" main "$@" >> "$out"
  done
  medians "$out"
  rm -f "$out"
}
# Round trips of messages that carry data (benches/payload.rs, benches/erlang/bench_payload.erl).
beside_erlang bench-payload bench_payload | tee -a "$results"
# A worker's whole life (benches/fanout.rs: spawned, messaged, answers, ends;
# benches/erlang/bench_fanout.erl).
beside_erlang bench-fanout bench_fanout | tee -a "$results"
# The same with 10,000 workers a round: more than fit the VM's kept instances once.
beside_erlang bench-fanout bench_fanout 10000 | sed 's/fanout_\(spawn_\)\{0,1\}us/fanout_10k_\1us/' | tee -a "$results"
# The actor layer: starts, calls, casts and a supervisor's children (benches/actors.rs;
# benches/erlang/bench_actors.erl: gen_server and supervisor).
beside_erlang bench-actors bench_actors | tee -a "$results"
# Many-to-one: 1 and 2 workers in turn, each pair beside a native run. This machine's cost
# of moving data between cores drifts over minutes (every figure with 2 threads, the native
# one included, drops by a third to a half for a while), so only runs made side by side
# compare.
pairs=$(mktemp)
for _ in $(seq 5); do
  "$vm" --workers 1 "$guests/bench-many-to-one.wasm" | sed 's/many_to_one_msgs_per_s/many_to_one_1_worker/' >> "$pairs"
  "$vm" --workers 2 "$guests/bench-many-to-one.wasm" | sed 's/many_to_one_msgs_per_s/many_to_one_2_workers/' >> "$pairs"
  cargo bench --quiet --package lunatic-vm --bench native_baseline -- many-to-one | sed 's/native_many_to_one_msgs_per_s/native_many_to_one_paired/' >> "$pairs"
done
medians "$pairs" | tee -a "$results"
awk '$2 == "many_to_one_1_worker" { one[++i] = $3 } $2 == "many_to_one_2_workers" { two[++j] = $3 }
     END { for (k = 1; k <= i; k++) if (two[k] > one[k]) wins++; printf "RESULT many_to_one_2_beats_1 %d\n", wins }' "$pairs" | tee -a "$results"
rm -f "$pairs"
cargo bench --quiet --package lunatic-vm --bench native_baseline | tee -a "$results"

# Echo over loopback: the same native load against the VM running examples/net_echo.rs (a
# process per connection), then against a native tokio echo server (a task per connection).
echo_out=$(mktemp)
"$vm" "$guests/net_echo.wasm" 127.0.0.1:0 > "$echo_out" &
echo_pid=$!
until grep -q '^listening on ' "$echo_out"; do sleep 0.1; done
cargo bench --quiet --package lunatic-vm --bench net_load -- "$(sed -n 's/^listening on //p' "$echo_out")" | tee -a "$results"
kill "$echo_pid"
wait "$echo_pid" 2>/dev/null || true
rm -f "$echo_out"
cargo bench --quiet --package lunatic-vm --bench net_load | tee -a "$results"

# Physical memory per parked process: the VM's proportional set size (shared pages such as
# the module's memory image count once, not once per mapping) plus page tables, with N
# processes parked, minus the same with none, read 1.5 s after they all parked (the VM looks
# at its table pages every second, and gives them back after a burst of 8,192 spawns: see
# lunatic-vm/src/program/table_pages.rs). Prints the KiB, then the guest's microseconds per
# spawn (park_spawn_us: in a freshly started VM, so every slot is a fresh one).
parked_kib() {
  local out pid kib
  out=$(mktemp)
  "$vm" "${@:2}" "$guests/bench-park.wasm" "$1" 5000 > "$out" &
  pid=$!
  until grep -q READY "$out"; do sleep 0.1; done
  sleep 1.5
  kib=$(( $(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup") + $(awk '/^VmPTE:/ { print $2 }' "/proc/$pid/status") ))
  wait "$pid"
  echo "$kib $(awk '$2 == "park_spawn_us" { print $3 }' "$out")"
  rm -f "$out"
}
# A first start may compile the module (a cache miss after the VM was rebuilt), and the
# compiler's memory would count in the base: warm the cache first.
parked_kib 0 > /dev/null
base=$(parked_kib 0 | cut -d' ' -f1)
# 10,000 parked: 3 runs, each beside an Erlang one (benches/erlang/bench_park.erl, which
# measures its own VM the same way, before and after parking 10,000); their spawn times
# are the "10,000 parked processes, once, in a fresh VM" figures.
parks=$(mktemp)
for _ in $(seq 3); do
  read -r full park_us <<< "$(parked_kib 10000)"
  echo "RESULT parked_kib_per_process $(awk -v a="$full" -v b="$base" 'BEGIN { printf "%.1f", (a - b) / 10000 }')" >> "$parks"
  echo "RESULT park_spawn_us $park_us" >> "$parks"
  erl_run -run bench_park main 10000 >> "$parks"
done
medians "$parks" | tee -a "$results"
rm -f "$parks"

# Past about 10,000 processes Linux's default vm.max_map_count is the limit (see README). With
# root, raise it for the big runs and put it back afterwards; without, say what was skipped.
maps=$(cat /proc/sys/vm/max_map_count)
big_maps=6100000
if [ "$maps" -lt "$big_maps" ] && [ "$(id -u)" = 0 ] && sysctl -qw vm.max_map_count=$big_maps 2>/dev/null; then
  trap 'sysctl -qw vm.max_map_count='"$maps"'; rm -f "$results"; rm -rf "$erl_beams"' EXIT
fi
raised_note=""
if [ "$(cat /proc/sys/vm/max_map_count)" -ge "$big_maps" ]; then
  [ "$maps" -lt "$big_maps" ] && raised_note="; raised to $big_maps for the 1,000,000-process and skynet rows only"
  # A million parked processes take about 21 GB: only where that much is available.
  if [ "$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)" -ge 22000000 ]; then
    big=$(parked_kib 1000000 --max-processes 1000001 | cut -d' ' -f1)
    echo "RESULT parked_1m_kib_per_process $(awk -v a="$big" -v b="$base" 'BEGIN { printf "%.1f", (a - b) / 1000000 }')" | tee -a "$results"
  else
    echo "RESULT parked_1m_kib_per_process skipped (needs 22 GB available)" | tee -a "$results"
  fi
  # Skynet's 111,111 parents wait for their children at once: the pool must hold them. Its
  # peak memory: the largest physical memory seen, read every 0.2 s until the VM exits
  # (a read misses only what the last 0.2 s add, when the tree is summed): private and
  # file pages plus page tables. Not VmHWM: the resident set counts the module's memory
  # image, one shared memfd of a few KiB, once for every process slot that maps it
  # (RssShmem, gigabytes here), and leaves out page tables.
  # 3 runs, the median of each figure.
  sky_runs=$(mktemp)
  for _ in $(seq 3); do
    sky_out=$(mktemp)
    "$vm" --max-processes 300000 "$guests/bench-skynet.wasm" > "$sky_out" &
    sky_pid=$!
    sky_peak=0 sky_hwm=0
    while sample=$(awk '/^(RssAnon|RssFile|VmPTE):/ { kib += $2 } /^VmHWM:/ { hwm = $2 }
                        END { if (hwm) print kib, hwm }' "/proc/$sky_pid/status" 2> /dev/null) &&
        [ -n "$sample" ]; do
      read -r kib sky_hwm <<< "$sample"
      [ "$kib" -gt "$sky_peak" ] && sky_peak=$kib
      sleep 0.2
    done
    wait "$sky_pid"
    { cat "$sky_out"; echo "RESULT skynet_peak_rss_mib $((sky_peak / 1024))"
      echo "RESULT skynet_vmhwm_mib $((sky_hwm / 1024))"; } >> "$sky_runs"
    rm -f "$sky_out"
  done
  medians "$sky_runs" | tee -a "$results"
  rm -f "$sky_runs"
else
  echo "RESULT parked_1m_kib_per_process skipped (needs vm.max_map_count=$big_maps)" | tee -a "$results"
  echo "RESULT skynet_ms skipped (needs vm.max_map_count=$big_maps)" | tee -a "$results"
  echo "RESULT skynet_peak_rss_mib skipped (needs vm.max_map_count=$big_maps)" | tee -a "$results"
fi
# Erlang's skynet (benches/erlang/bench_skynet.erl; it reads its own VmHWM at the end): 3 runs
# of about 4 s after the VM's, the median. +P 2000000: without backpressure up to 1,111,111
# processes live at once, and Erlang's process table holds 262,144 by default.
skies=$(mktemp)
for _ in $(seq 3); do erl_run +P 2000000 -run bench_skynet main >> "$skies"; done
medians "$skies" | tee -a "$results"
rm -f "$skies"

# Between two nodes on loopback (benches/remote.sh: two VMs, a cluster of two, QUIC with
# mutual TLS), beside two Erlang nodes (benches/erlang/dist.sh: `erl -name` on 127.0.0.1,
# Erlang distribution over TCP): 3 runs each, in turns, the median.
remote=$(mktemp)
for _ in $(seq 3); do
  bash benches/remote.sh "$vm" "$guests/bench-remote.wasm" 2> /dev/null >> "$remote" ||
    echo "NOTE: the remote benchmark failed" >&2
  [ -z "$erl_beams" ] || bash benches/erlang/dist.sh "$erl_beams" 2> /dev/null >> "$remote" ||
    echo "NOTE: the Erlang distribution benchmark failed" >&2
done
medians "$remote" | tee -a "$results"
rm -f "$remote"

value() { awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
# Compares throughputs: lunatic $1 against native $2.
versus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a >= b) printf "%.1fx faster", a / b; else printf "%.1fx slower", b / a }'; }

spawn=$(value spawn_parked_us); native_spawn=$(value native_spawn_parked_paired_us)
cold=$(value spawn_parked_cold_us)
trip=$(value roundtrip_us); native_trip=$(value native_roundtrip_paired_us)
trip_handle=$(value roundtrip_handle_us)
request=$(value request_us)
trip_one=$(value roundtrip_1_worker_us); request_one=$(value request_1_worker_us)
parked=$(value parked_kib_per_process)
parked_big=$(value parked_1m_kib_per_process)
skynet=$(value skynet_ms); native_skynet=$(value native_skynet_ms)
hop=$(value ring_hop_us); native_hop=$(value native_ring_hop_us)
one=$(value many_to_one_1_worker); two=$(value many_to_one_2_workers)
native_many=$(value native_many_to_one_paired); wins=$(value many_to_one_2_beats_1)
echo1=$(value net_echo_1_reqs_per_s); native_echo1=$(value native_net_echo_1_reqs_per_s)
echo50=$(value net_echo_50_reqs_per_s); native_echo50=$(value native_net_echo_50_reqs_per_s)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')

# Beside Erlang: lunatic's figure over Erlang's, each pair measured in this run (lower is
# better; "skipped" when a side is missing). The keys: lunatic's RESULT, then Erlang's.
erl_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "skipped" }'; }
park_spawn=$(value park_spawn_us)
erl_park_spawn=$(value erlang_park_spawn_us)
erl_spawn=$(value erlang_spawn_parked_us); erl_cold=$(value erlang_spawn_parked_cold_us)
erl_trip=$(value erlang_roundtrip_us); erl_request=$(value erlang_request_us)
erl_skynet=$(value erlang_skynet_ms)
erl_hop=$(value erlang_ring_hop_us)
list100=$(value payload_list100_us); erl_list100=$(value erlang_payload_list100_us)
bytes1k=$(value payload_bytes1k_us); erl_bytes1k=$(value erlang_payload_bytes1k_us)
buf1k=$(value payload_buf1k_us)
fanout=$(value fanout_us); erl_fanout=$(value erlang_fanout_us)
fanout_10k=$(value fanout_10k_us); erl_fanout_10k=$(value erlang_fanout_10k_us)
text100=$(value payload_text100_us); erl_text100=$(value erlang_payload_text100_us)
actor_start=$(value actor_start_us); erl_actor_start=$(value erlang_actor_start_us)
actor_call=$(value actor_call_us); erl_actor_call=$(value erlang_actor_call_us)
actor_cast=$(value actor_cast_us); erl_actor_cast=$(value erlang_actor_cast_us)
supervisor_tree=$(value supervisor_tree_us); erl_supervisor_tree=$(value erlang_supervisor_tree_us)
skynet_rss=$(value skynet_peak_rss_mib); erl_skynet_rss=$(value erlang_skynet_peak_rss_mib)
erl_parked=$(value erlang_parked_kib_per_process)
erl_parked_own=$(value erlang_parked_memory_total_kib_per_process)
remote_trip=$(value remote_roundtrip_us); erl_remote_trip=$(value erlang_remote_roundtrip_us)
remote_rate=$(value remote_throughput_msgs_per_s)
floor_once=$(value floor_spawn_once_us); floor_spawn=$(value floor_spawn_us)
floor_trip=$(value floor_round_trip_us); floor_kib=$(value floor_parked_kib)
floor_guest_once=$(value floor_guest_instance_once_us); floor_guest_us=$(value floor_guest_instance_us)
floor_guest_kib=$(value floor_guest_instance_kib)
erl_remote_rate=$(value erlang_remote_throughput_msgs_per_s)
erl_pairs="spawn_once:$park_spawn:$erl_park_spawn
floor_spawn_once:$floor_once:$erl_park_spawn
floor_spawn_reused:$floor_spawn:$erl_spawn
floor_roundtrip:$floor_trip:$erl_trip
floor_parked_memory:$floor_kib:$erl_parked
spawn_reused:$spawn:$erl_spawn
spawn_cold:$cold:$erl_cold
roundtrip:$trip_handle:$erl_trip
request:$request:$erl_request
ring:$hop:$erl_hop
payload_list100:$list100:$erl_list100
payload_bytes1k:$bytes1k:$erl_bytes1k
payload_buf1k:$buf1k:$erl_bytes1k
payload_text100:$text100:$erl_text100
fanout:$fanout:$erl_fanout
fanout_10k:$fanout_10k:$erl_fanout_10k
actor_start:$actor_start:$erl_actor_start
actor_call:$actor_call:$erl_actor_call
actor_cast:$actor_cast:$erl_actor_cast
supervisor_tree:$supervisor_tree:$erl_supervisor_tree
skynet:$skynet:$erl_skynet
skynet_rss:$skynet_rss:$erl_skynet_rss
parked_memory:$parked:$erl_parked
remote_roundtrip:$remote_trip:$erl_remote_trip
remote_throughput:$erl_remote_rate:$remote_rate"
while IFS=: read -r name a b; do
  echo "RESULT ratio_$name $(erl_ratio "$a" "$b")"
done <<< "$erl_pairs" | tee -a "$results"
erl_x() { local r; r=$(erl_ratio "$1" "$2"); [ "$r" = skipped ] && echo "$r" || echo "${r}x"; }
if [ -n "$erl_beams" ]; then
  erlang_table="| beside Erlang/OTP $otp (each Erlang program in a VM of its own, in this run; lower is better) | lunatic | Erlang | lunatic / Erlang | target | wasmtime's floor | floor / Erlang |
|---|---|---|---|---|---|---|
| spawn 10,000 processes that park, once, in a fresh VM (us per spawn; the 10,000-parked memory runs: median of 3, each beside an Erlang one) | $park_spawn | $erl_park_spawn | $(erl_x "$park_spawn" "$erl_park_spawn") | 3x | $floor_once | $(erl_x "$floor_once" "$erl_park_spawn") |
| a reused-slot spawn of a process that parks (us; the spawn row above, beside Erlang's same 11 rounds of 2,000, killed between rounds) | $spawn | $erl_spawn | $(erl_x "$spawn" "$erl_spawn") | 2x | $floor_spawn | $(erl_x "$floor_spawn" "$erl_spawn") |
| the same, first round only (2,000 spawns) | $cold | $erl_cold | $(erl_x "$cold" "$erl_cold") | | | |
| message round trip with the sender's handle in each message (us; lunatic: \`(Process, u64)\`, answered through it; Erlang: \`{self(), N}\`) | $trip_handle | $erl_trip | $(erl_x "$trip_handle" "$erl_trip") | 1.2x | $floor_trip | $(erl_x "$floor_trip" "$erl_trip") |
| request / reply round trip (us; lunatic: \`request\`, its reply handle in the message; Erlang: \`gen_server:call\`; both watch the server) | $request | $erl_request | $(erl_x "$request" "$erl_request") | | | |
| ring of 1,000 processes, token passed 100 times around (us per hop; median of 3 runs each) | $hop | $erl_hop | $(erl_x "$hop" "$erl_hop") | | | |
| round trip of a list of 100 integers, made anew each trip, the sender's handle beside it (us; lunatic: \`Vec<u64>\`; Erlang: a list; median of 3 runs each) | $list100 | $erl_list100 | $(erl_x "$list100" "$erl_list100") | | | |
| the same with 1,000 bytes (lunatic: \`Vec<u8>\`, which serde writes and reads a byte at a time, copied into the receiver; Erlang: a binary, which over 64 bytes is shared by reference, not copied) | $bytes1k | $erl_bytes1k | $(erl_x "$bytes1k" "$erl_bytes1k") | | | |
| the same 1,000 bytes as \`serde_bytes::ByteBuf\`, which serde copies whole (Erlang: the binary above) | $buf1k | $erl_bytes1k | $(erl_x "$buf1k" "$erl_bytes1k") | | | |
| the same with 100 bytes of text (lunatic: \`String\`, copied; Erlang: a binary, shared by reference) | $text100 | $erl_text100 | $(erl_x "$text100" "$erl_text100") | | | |
| a pool of 2,000 workers, each spawned, sent a number with its parent's handle, answering once and ending (us per worker, the round's whole time; its spawns alone: $(value fanout_spawn_us) against $(value erlang_fanout_spawn_us); median of 11 rounds, of 3 runs each) | $fanout | $erl_fanout | $(erl_x "$fanout" "$erl_fanout") | | | |
| the same with 10,000 workers a round (its spawns alone: $(value fanout_10k_spawn_us) against $(value erlang_fanout_10k_spawn_us)) | $fanout_10k | $erl_fanout_10k | $(erl_x "$fanout_10k" "$erl_fanout_10k") | | | |
| an actor started and stopped (us per actor, 2,000 a round; lunatic: \`ActorRef::start\`, which returns once \`init\` ran, then \`stop\`; Erlang: \`gen_server:start\`, then a cast that stops it; median of 11 rounds, of 3 runs each) | $actor_start | $erl_actor_start | $(erl_x "$actor_start" "$erl_actor_start") | | | |
| a call to an actor (us; lunatic: a \`#[lunatic::actor]\` method with a result; Erlang: \`gen_server:call\`) | $actor_call | $erl_actor_call | $(erl_x "$actor_call" "$erl_actor_call") | | | |
| a cast to an actor (us; 50,000 casts and a call that waits for them) | $actor_cast | $erl_actor_cast | $(erl_x "$actor_cast" "$erl_actor_cast") | | | |
| a supervisor started with 1,000 actor children, then stopped (us per child; Erlang: a \`one_for_one\` supervisor of \`gen_server\`s) | $supervisor_tree | $erl_supervisor_tree | $(erl_x "$supervisor_tree" "$erl_supervisor_tree") | | | |
| skynet, 1,111,111 processes (ms; median of 3 runs each; Erlang: \`+P 2000000\`, no backpressure) | $skynet | $erl_skynet | $(erl_x "$skynet" "$erl_skynet") | 2x | | |
| skynet's peak memory (MiB, median of the 3 runs; lunatic: private and file pages plus page tables, read every 0.2 s, its VmHWM $(value skynet_vmhwm_mib) counts the shared memory image once per process slot; Erlang: its VmHWM) | $skynet_rss | $erl_skynet_rss | $(erl_x "$skynet_rss" "$erl_skynet_rss") | | | |
| physical memory per parked process (KiB: proportional set size + page tables, 10,000 parked; Erlang's own count, \`erlang:memory(total)\`, says $erl_parked_own) | $parked | $erl_parked | $(erl_x "$parked" "$erl_parked") | 12 KiB | $floor_kib | $(erl_x "$floor_kib" "$erl_parked") |
| round trip to a process on another node, two nodes on loopback (us; lunatic: \`(Process, u64)\` over QUIC with mutual TLS; Erlang: \`{self(), N}\` over distribution; median of 3 runs) | $remote_trip | $erl_remote_trip | $(erl_x "$remote_trip" "$erl_remote_trip") | | | |
| one process sending to one process on another node (messages per second, higher is better; the ratio is Erlang's time over lunatic's) | $remote_rate | $erl_remote_rate | $(erl_x "$erl_remote_rate" "$remote_rate") | | | |

wasmtime's floor (\`benches/wasm_floor.rs\`, 3 runs in this run, the medians) is what wasmtime itself
costs on the VM's engine settings, with none of the VM: the least process (a store and an
instance of a module with one page of memory, parked in an async host call on its fiber
stack), driven by hand (no scheduler, no waking, no mailbox). A target below its floor is out
of reach with a wasm instance per process. A Rust guest costs more than the least process: a
bare instance of this suite's guest program (no fiber, nothing run) takes $floor_guest_once us
on fresh slots, $floor_guest_us us on slots used before, and $floor_guest_kib KiB."
else
  erlang_table="The Erlang side was skipped: no Erlang/OTP on the machine (\`apt-get install erlang-base\`, then run again)."
fi
suite_stolen=$(stolen_percent "$suite_start" "$(cpu_ticks)")

cat > BENCHMARKS.md <<MD
# Benchmarks

Written by \`bash benches/run.sh\` on $(date -u +%Y-%m-%d): every figure on the VM beside a
native tokio baseline measured in the same run. Each VM figure is the median of 5 rounds (11 for spawns, round trips, payloads and the worker pool)
in a run, and of 3 runs (5 for spawns, round trips and many-to-one, each of those runs
beside a native one, whose median is the baseline shown): this shared machine's speed drifts by up
to 2x within minutes, natively too.

Machine: $(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ { print $2 }') GiB,
$(uname -sr), $(rustc --version). VM at default settings (pool sized from
vm.max_map_count = $maps$raised_note; a pool of up to 16,383 slots runs guest code
without bounds checks on memory, a larger one checks every access: see the README's
\`--max-processes\`). The hypervisor took $suite_stolen% of the
cores' time during the run ("steal" in \`/proc/stat\`), $trips_stolen% during the round trips.

| benchmark | lunatic (us) | native tokio (us) | ratio |
|---|---|---|---|
| spawn a process that parks in \`receive\` (2,000 per round; median of 5 runs, each beside the native run) | $spawn | $native_spawn | $(ratio "$spawn" "$native_spawn") |
| the same, first round only (fresh pool slots) | $cold | $native_spawn | $(ratio "$cold" "$native_spawn") |
| message round trip between two processes (u64, 50,000 per round; median of 5 runs, each beside the native run) | $trip | $native_trip | $(ratio "$trip" "$native_trip") |
| \`request\` / \`reply\` round trip (u64; watches the server, so a dead one is an error, not a hang) | $request | $native_trip | $(ratio "$request" "$native_trip") |
| the same two round trips on 1 worker thread (\`--workers 1\`: the pair never migrates between threads) | $trip_one / $request_one | $native_trip | $(ratio "$trip_one" "$native_trip") |
| physical memory per parked process (KiB: proportional set size + page tables, 10,000 parked, read 1.5 s after; median of 3 runs) | $parked | | |
| the same with 1,000,000 parked at once (\`--max-processes 1000001\`) | $parked_big | | |
| ring of 1,000 processes, token passed 100 times around (us per hop; median of 3 runs) | $hop | $native_hop | $(ratio "$hop" "$native_hop") |
| skynet: 1,111,111 processes, 1,000,000 leaves summed up a tree of tens (ms; \`--max-processes 300000\`; median of 3 runs) | $skynet | $native_skynet | $(ratio "$skynet" "$native_skynet") |

$erlang_table

| throughput (messages per second, higher is better) | lunatic | native tokio | ratio |
|---|---|---|---|
| many-to-one: 100 senders x 2,000 messages, 1 worker thread (median of 5 runs, each beside a 2-worker and a native run) | $one | $native_many | $(versus "$one" "$native_many") |
| many-to-one, 2 worker threads (median of 5; higher than the 1-worker run beside it in $wins of 5) | $two | $native_many | $(versus "$two" "$native_many") |

| echo over loopback (requests per second, 64-byte requests, higher is better) | lunatic | native tokio | ratio |
|---|---|---|---|
| 1 client connection | $echo1 | $native_echo1 | $(versus "$echo1" "$native_echo1") |
| 50 client connections | $echo50 | $native_echo50 | $(versus "$echo50" "$native_echo50") |

Programs: \`benches/spawn.rs\`, \`roundtrip.rs\`, \`payload.rs\`, \`fanout.rs\`, \`actors.rs\`, \`park.rs\`, \`ring.rs\`, \`skynet.rs\` and \`many_to_one.rs\` run on the VM;
\`benches/wasm_floor.rs\` runs wasmtime alone, on the VM's engine settings (the floor column);
\`benches/native_baseline.rs\` is the same work with tokio tasks and unbounded mpsc channels
on a multi-threaded runtime with one worker per core, the VM's default. The echo rows load
\`examples/net_echo.rs\` on the VM (a process per connection) and a native tokio echo server (a
task per connection) with the same native tokio client, \`benches/net_load.rs\`, which shares
the machine's cores with the server it loads. Skynet's 111,111 parents all wait at once, so
its pool must hold them (as Erlang needs \`+P\` for a million processes); a parent that finds
the pool full waits a millisecond and spawns again.

The Erlang rows run \`benches/erlang/*.erl\` (compiled with \`erlc\`, each started with
\`erl -noshell\` at default settings) beside the VM's runs: the spawn and round-trip programs
within the same 5 rounds as the VM's, the parked-memory program in each of the 3 runs that
park 10,000 on the VM (it measures its own VM the same way, before and after spawning), the
ring after the VM's ring, the payload round trips, the worker pool and the actors after each of the VM's 3 runs, and skynet after the VM's. The remote rows run \`benches/remote.rs\` on two VMs that form a
cluster on loopback (\`benches/remote.sh\`: certificates from \`lunatic cluster-certs\`) and
\`benches/erlang/bench_dist.erl\` on two Erlang nodes on loopback
(\`benches/erlang/dist.sh\`: \`erl -name\` on 127.0.0.1), in turns, 3 runs each. The script installs Erlang (\`erlang-base\`) when it runs as root with
apt-get; elsewhere it says how and skips those rows.

For scale (figures quoted in the project's issues, not measured in this run): the runtime we
re-create took about 130 us per spawn and 24 us per round trip on this kind of machine.

Comparing two builds: \`bash benches/compare.sh REV\` runs the spawn and round-trip benchmarks
of revision REV and of the working tree in turns (7 rounds, medians), each build with its own
guest library. The comparisons behind changes to the hot paths are in
[docs/performance.md](docs/performance.md).
MD
echo "BENCHMARKS.md updated"
