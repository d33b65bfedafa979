%% Benchmark (runs on Erlang/OTP, beside the VM's remote round trip between two nodes on
%% loopback): Erlang distribution between two nodes on the same machine. Runs on node A and
%% spawns its partners on node B (which must have this module on its code path):
%%  - round trip: `{self(), N}` to an echo process on B, which sends N back; 10,000 trips
%%    to warm up, then the mean microseconds over 100,000;
%%  - throughput: one sender on A sends 1,000,000 `{N}` to one receiver on B, which counts
%%    them and replies once; messages per second from the first send to the reply.
%% Then halts node B and itself. Prints `RESULT erlang_<name> <value>` lines for
%% benches/run.sh.
%%
%% Use benches/erlang/dist.sh DIR (DIR holding the compiled beams): it starts both nodes.
-module(bench_dist).
-export([main/1, echo/0, sink/2]).

-define(WARMUP, 10000).
-define(TRIPS, 100000).
-define(MESSAGES, 1000000).

%% Args: [NodeB] as given by `-run bench_dist main NodeB`.
main([NodeB0 | _]) ->
    NodeB = list_to_atom(NodeB0),
    %% dist.sh starts B just before A: wait (up to 20 s) until it answers.
    ok = connect(NodeB, 200),
    %% Linked: if B goes away mid-run, A dies (noconnection) instead of waiting forever.
    Echo = spawn_link(NodeB, ?MODULE, echo, []),
    trips(?WARMUP, Echo),
    Us = elapsed_us(fun() -> trips(?TRIPS, Echo) end) / ?TRIPS,
    io:format("RESULT erlang_remote_roundtrip_us ~.3f~n", [Us]),
    Sink = spawn_link(NodeB, ?MODULE, sink, [self(), ?MESSAGES]),
    PerS = ?MESSAGES / (elapsed_us(fun() -> send(?MESSAGES, Sink) end) / 1.0e6),
    io:format("RESULT erlang_remote_throughput_msgs_per_s ~.3f~n", [PerS]),
    %% Stop B and wait until its connection drops (dist.sh also kills it if still there);
    %% unlinked first, so that drop does not kill A.
    unlink(Echo),
    monitor_node(NodeB, true),
    rpc:cast(NodeB, erlang, halt, []),
    receive {nodedown, NodeB} -> ok after 5000 -> ok end,
    halt(0).

connect(NodeB, 0) ->
    io:format(standard_error, "bench_dist: node ~s does not answer~n", [NodeB]),
    halt(1);
connect(NodeB, Tries) ->
    case net_adm:ping(NodeB) of
        pong -> ok;
        pang -> timer:sleep(100), connect(NodeB, Tries - 1)
    end.

%% On B: answers each `{From, N}` with N.
echo() ->
    receive
        {From, N} -> From ! N, echo()
    end.

trips(0, _) -> ok;
trips(N, Echo) ->
    Echo ! {self(), N},
    receive
        N -> trips(N - 1, Echo)
    end.

%% On B: takes Left messages, then tells A how many it took.
sink(A, Left) -> sink(A, Left, 0).
sink(A, 0, Got) -> A ! {sunk, Got};
sink(A, Left, Got) ->
    receive
        {_} -> sink(A, Left - 1, Got + 1)
    end.

%% Sends N messages, then waits for the receiver's single reply.
send(N, Sink) ->
    send_all(N, Sink),
    receive {sunk, N} -> ok end.

send_all(0, _) -> ok;
send_all(N, Sink) ->
    Sink ! {N},
    send_all(N - 1, Sink).

elapsed_us(Run) ->
    Start = erlang:monotonic_time(),
    Run(),
    erlang:convert_time_unit(erlang:monotonic_time() - Start, native, nanosecond) / 1000.
