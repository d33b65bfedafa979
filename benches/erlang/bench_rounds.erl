%% What the round-trip programs (bench_roundtrip.erl, bench_payload.erl) share: each figure
%% is the median over 11 rounds, as in their Rust twins.
-module(bench_rounds).
-export([median_us/2]).

-define(ROUNDS, 11).

%% The median over ?ROUNDS rounds of microseconds per trip: each round runs `Round()`,
%% which makes `Trips` trips.
median_us(Trips, Round) ->
    Samples = [begin
                   Start = erlang:monotonic_time(),
                   Round(),
                   erlang:convert_time_unit(erlang:monotonic_time() - Start, native, nanosecond)
                       / 1000 / Trips
               end || _ <- lists:seq(1, ?ROUNDS)],
    lists:nth(?ROUNDS div 2 + 1, lists:sort(Samples)).
