%% What the programs measured in rounds (bench_roundtrip.erl, bench_payload.erl,
%% bench_fanout.erl) share: each figure is the median over 11 rounds, as in their Rust
%% twins.
-module(bench_rounds).
-export([median_us/2, median/1]).

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
    median(Samples).

%% The median of `Samples` (the upper one of an even count).
median(Samples) ->
    lists:nth(length(Samples) div 2 + 1, lists:sort(Samples)).
