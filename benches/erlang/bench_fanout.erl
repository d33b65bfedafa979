%% Benchmark (runs on Erlang/OTP, beside benches/fanout.rs): a parent spawns 2,000 workers,
%% sends each `{self(), N}` and sums the doubled numbers they send back; each worker answers
%% once and ends. Prints the microseconds per worker of a round and of its spawns alone, the
%% medians of 11 rounds: `RESULT erlang_fanout_us` and `RESULT erlang_fanout_spawn_us`, for
%% benches/run.sh.
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_rounds.erl benches/erlang/bench_fanout.erl &&
%%             erl -noshell -pa /tmp -run bench_fanout main [WORKERS]
-module(bench_fanout).
-export([main/0, main/1]).

-define(ROUNDS, 11).

main() -> main([]).

main(Args) ->
    Workers = case Args of
                  [N | _] -> list_to_integer(N);
                  [] -> 2000
              end,
    Rounds = [one_round(Workers) || _ <- lists:seq(1, ?ROUNDS)],
    io:format("RESULT erlang_fanout_us ~.2f~n",
              [bench_rounds:median([Whole || {Whole, _} <- Rounds])]),
    io:format("RESULT erlang_fanout_spawn_us ~.2f~n",
              [bench_rounds:median([Spawn || {_, Spawn} <- Rounds])]),
    halt(0).

%% One round: microseconds per worker, of the whole round and of its spawns.
one_round(Workers) ->
    Self = self(),
    Start = erlang:monotonic_time(nanosecond),
    Pool = [spawn(fun() -> receive {Back, N} -> Back ! 2 * N end end)
            || _ <- lists:seq(1, Workers)],
    Spawned = erlang:monotonic_time(nanosecond),
    lists:foldl(fun(Worker, N) -> Worker ! {Self, N}, N + 1 end, 0, Pool),
    Sum = collect(Workers, 0),
    Sum = Workers * (Workers - 1),
    End = erlang:monotonic_time(nanosecond),
    %% As fanout.rs: the next round starts once every worker of this one has ended.
    wait_ended(Pool),
    {(End - Start) / 1000 / Workers, (Spawned - Start) / 1000 / Workers}.

collect(0, Sum) -> Sum;
collect(Left, Sum) -> receive N -> collect(Left - 1, Sum + N) end.

wait_ended(Pool) ->
    case lists:any(fun erlang:is_process_alive/1, Pool) of
        true -> timer:sleep(1), wait_ended(Pool);
        false -> ok
    end.
