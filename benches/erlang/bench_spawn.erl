%% Benchmark (runs on Erlang/OTP, beside benches/spawn.rs): microseconds to spawn a process
%% that parks in `receive`, the same rounds as spawn.rs: 11 rounds of 2,000 spawns, each
%% round's processes killed and waited for before the next, so later rounds spawn into
%% process-table slots and memory the dead ones left. Prints `RESULT erlang_<name> <value>`
%% lines for benches/run.sh.
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_spawn.erl &&
%%             erl -noshell -pa /tmp -run bench_spawn main [ROUNDS]
-module(bench_spawn).
-export([main/0, main/1]).

-define(PER_ROUND, 2000).

main() -> main([]).

main(Args) ->
    Rounds = case Args of
                 [N | _] -> list_to_integer(N);
                 [] -> 11
             end,
    Samples = [round_us() || _ <- lists:seq(1, Rounds)],
    %% The first round is the VM's first 2,000 spawns (spawn.rs's cold round).
    io:format("RESULT erlang_spawn_parked_cold_us ~.2f~n", [hd(Samples)]),
    io:format("RESULT erlang_spawn_parked_us ~.2f~n", [median(Samples)]),
    halt(0).

%% Microseconds per spawn of one round.
round_us() ->
    Start = erlang:monotonic_time(),
    Parked = [spawn(fun park/0) || _ <- lists:seq(1, ?PER_ROUND)],
    Us = erlang:convert_time_unit(erlang:monotonic_time() - Start, native, nanosecond)
        / 1000 / ?PER_ROUND,
    [exit(Pid, kill) || Pid <- Parked],
    %% As spawn.rs does: poll until every one is gone (is_process_alive/1 sees the
    %% caller's exit signals delivered first).
    wait_gone(Parked),
    Us.

park() ->
    receive _ -> ok end.

wait_gone(Pids) ->
    case lists:any(fun erlang:is_process_alive/1, Pids) of
        true -> timer:sleep(1), wait_gone(Pids);
        false -> ok
    end.

%% The same pick as spawn.rs: the element at index len/2 of the sorted samples.
median(Samples) ->
    lists:nth(length(Samples) div 2 + 1, lists:sort(Samples)).
