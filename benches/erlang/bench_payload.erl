%% Benchmark (runs on Erlang/OTP, beside benches/payload.rs): microseconds per round trip
%% of a message that carries data, `{self(), Data}`, echoed back to the sender: a list of
%% 100 integers, a 1,000-byte binary and a 100-byte binary (Erlang's text), each made anew
%% for every trip. 11 rounds of 20,000 trips each, the median reported, as payload.rs.
%% Prints `RESULT erlang_payload_<name>_us <value>` lines for benches/run.sh.
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_rounds.erl benches/erlang/bench_payload.erl &&
%%             erl -noshell -pa /tmp -run bench_payload main [TRIPS]
-module(bench_payload).
-export([main/0, main/1]).

main() -> main([]).

main(Args) ->
    Trips = case Args of
                [N | _] -> list_to_integer(N);
                [] -> 20000
            end,
    Payloads = [{list100, fun(N) -> lists:seq(N, N + 99) end},
                {bytes1k, fun(N) -> binary:copy(<<(N band 255)>>, 1000) end},
                {text100, fun(N) -> binary:copy(<<($a + N rem 26)>>, 100) end}],
    lists:foreach(fun({Name, Make}) ->
                          Echo = spawn(fun echo/0),
                          Us = bench_rounds:median_us(Trips, fun() -> trips(Trips, Echo, Make) end),
                          exit(Echo, kill),
                          io:format("RESULT erlang_payload_~s_us ~.3f~n", [Name, Us])
                  end, Payloads),
    halt(0).

echo() ->
    receive
        {From, Data} -> From ! {self(), Data}, echo()
    end.

trips(0, _, _) -> ok;
trips(N, Echo, Make) ->
    Echo ! {self(), Make(N)},
    receive
        {Echo, _} -> trips(N - 1, Echo, Make)
    end.
