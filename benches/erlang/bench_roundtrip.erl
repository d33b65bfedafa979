%% Benchmark (runs on Erlang/OTP, beside benches/roundtrip.rs): microseconds per message
%% round trip between two processes, the way Erlang programs write one: the caller's pid
%% travels in the message (`{self(), N}`) and the echo process replies to it. And per
%% `gen_server:call` (monitors the server, so a dead one is an error, not a hang: what
%% roundtrip.rs's `request` does). 11 rounds of 50,000 trips each, the median reported, as
%% roundtrip.rs. Prints `RESULT erlang_<name> <value>` lines for benches/run.sh.
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_rounds.erl benches/erlang/bench_roundtrip.erl &&
%%             erl -noshell -pa /tmp -run bench_roundtrip main [TRIPS]
-module(bench_roundtrip).
-behaviour(gen_server).
-export([main/0, main/1]).
-export([init/1, handle_call/3, handle_cast/2]).

main() -> main([]).

main(Args) ->
    Trips = case Args of
                [N | _] -> list_to_integer(N);
                [] -> 50000
            end,
    Echo = spawn(fun echo/0),
    Us = bench_rounds:median_us(Trips, fun() -> trips(Trips, Echo) end),
    io:format("RESULT erlang_roundtrip_us ~.3f~n", [Us]),
    {ok, Server} = gen_server:start(?MODULE, [], []),
    CallUs = bench_rounds:median_us(Trips, fun() -> calls(Trips, Server) end),
    io:format("RESULT erlang_request_us ~.3f~n", [CallUs]),
    halt(0).

echo() ->
    receive
        {From, N} -> From ! {self(), N}, echo()
    end.

trips(0, _) -> ok;
trips(N, Echo) ->
    Echo ! {self(), N},
    receive
        {Echo, N} -> trips(N - 1, Echo)
    end.

calls(0, _) -> ok;
calls(N, Server) ->
    N = gen_server:call(Server, N),
    calls(N - 1, Server).

init([]) -> {ok, nostate}.
handle_call(N, _From, State) -> {reply, N, State}.
handle_cast(_, State) -> {noreply, State}.
