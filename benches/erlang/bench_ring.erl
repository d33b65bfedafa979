%% Benchmark (runs on Erlang/OTP, beside benches/ring.rs): 1,000 processes in a ring pass a
%% token 100 times around; microseconds per hop. Prints `RESULT erlang_ring_hop_us <value>`
%% for benches/run.sh.
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_ring.erl &&
%%             erl -noshell -pa /tmp -run bench_ring main [ROUNDS]
-module(bench_ring).
-export([main/0, main/1]).

-define(RING, 1000).

main() -> main([]).

main(Args) ->
    Rounds = case Args of
                 [N | _] -> list_to_integer(N);
                 [] -> 100
             end,
    %% Each member forwards to the next; the last forwards to this process.
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> member(Next) end) end,
                        self(), lists:seq(1, ?RING - 1)),
    Start = erlang:monotonic_time(nanosecond),
    lists:foreach(fun(Round) ->
                          First ! Round,
                          receive Round -> ok end
                  end, lists:seq(1, Rounds)),
    Elapsed = erlang:monotonic_time(nanosecond) - Start,
    io:format("RESULT erlang_ring_hop_us ~.3f~n", [Elapsed / 1000 / (?RING * Rounds)]),
    halt(0).

member(Next) ->
    receive
        Token -> Next ! Token, member(Next)
    end.
