%% Benchmark (runs on Erlang/OTP, beside benches/actors.rs): gen_server and supervisor,
%% the work benches/actors.rs does with `lunatic::actors`. 11 rounds each, the median
%% reported. Prints `RESULT erlang_<name> <value>` lines for benches/run.sh.
%%
%% - actor_start: gen_server:start (init runs before it returns) and gen_server:stop,
%%   per server, 2,000 a round (the Rust twin stops by message without waiting, so this
%%   one stops with a cast, not the synchronous gen_server:stop);
%% - actor_call: gen_server:call, per call, 50,000 a round;
%% - actor_cast: gen_server:cast, per cast, 50,000 a round and a call that waits for them;
%% - supervisor_tree: a one_for_one supervisor started with 1,000 gen_server children,
%%   then stopped, per child.
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_rounds.erl benches/erlang/bench_actors.erl &&
%%             erl -noshell -pa /tmp -run bench_actors main
-module(bench_actors).
-behaviour(gen_server).
%% Also the pool supervisor's callback module (`init({pool, N})`; declaring both behaviours
%% would warn of their shared `init/1`).
-export([main/0, main/1]).
-export([init/1, handle_call/3, handle_cast/2, start_worker/1]).

main() -> main([]).

main(_Args) ->
    Actors = 2000,
    StartUs = bench_rounds:median_us(Actors, fun() -> starts(Actors) end),
    io:format("RESULT erlang_actor_start_us ~.3f~n", [StartUs]),
    Calls = 50000,
    {ok, Counter} = gen_server:start(?MODULE, {counter, 0}, []),
    CallUs = bench_rounds:median_us(Calls, fun() -> calls(Calls, Counter) end),
    io:format("RESULT erlang_actor_call_us ~.3f~n", [CallUs]),
    CastUs = bench_rounds:median_us(Calls, fun() ->
                                                   casts(Calls, Counter),
                                                   gen_server:call(Counter, {add, 0})
                                           end),
    io:format("RESULT erlang_actor_cast_us ~.3f~n", [CastUs]),
    Children = 1000,
    TreeUs = bench_rounds:median_us(Children, fun() -> tree(Children) end),
    io:format("RESULT erlang_supervisor_tree_us ~.3f~n", [TreeUs]),
    halt(0).

starts(N) ->
    Servers = [begin {ok, S} = gen_server:start(?MODULE, {counter, I}, []), S end
               || I <- lists:seq(1, N)],
    [gen_server:cast(S, stop) || S <- Servers],
    ok.

calls(0, _) -> ok;
calls(N, Counter) ->
    gen_server:call(Counter, {add, 1}),
    calls(N - 1, Counter).

casts(0, _) -> ok;
casts(N, Counter) ->
    gen_server:cast(Counter, increment),
    casts(N - 1, Counter).

tree(Children) ->
    {ok, Sup} = supervisor:start_link(?MODULE, {pool, Children}),
    unlink(Sup),
    Ref = monitor(process, Sup),
    exit(Sup, shutdown),
    receive {'DOWN', Ref, process, Sup, _} -> ok end.

start_worker(N) -> gen_server:start_link(?MODULE, {counter, N}, []).

%% Both behaviours' init: a counter's, or the pool supervisor's.
init({counter, Start}) -> {ok, Start};
init({pool, Children}) ->
    Specs = [#{id => {worker, I}, start => {?MODULE, start_worker, [0]}}
             || I <- lists:seq(1, Children)],
    {ok, {#{strategy => one_for_one}, Specs}}.

handle_call({add, N}, _From, Count) -> {reply, Count + N, Count + N}.

handle_cast(increment, Count) -> {noreply, Count + 1};
handle_cast(stop, Count) -> {stop, normal, Count}.
