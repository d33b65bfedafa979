%% Benchmark (runs on Erlang/OTP, beside benches/skynet.rs): skynet, a tree of 1,000,000
%% leaf processes (1,111,111 in all) where each leaf sends its number to its parent and each
%% parent sends the sum of its ten children up. Prints the time in ms and the VM's peak
%% resident memory (VmHWM of /proc/self/status, in MiB) as `RESULT erlang_<name> <value>`.
%%
%% Unlike skynet.rs, no spawn ever waits for room: Erlang's process table holds them all
%% once raised with +P (the default, 262,144, is too small).
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_skynet.erl &&
%%             erl +P 2000000 -noshell -pa /tmp -run bench_skynet main [LEAVES]
-module(bench_skynet).
-export([main/0, main/1]).

main() -> main([]).

main(Args) ->
    Leaves = case Args of
                 [N | _] -> list_to_integer(N);
                 [] -> 1000000
             end,
    Self = self(),
    Start = erlang:monotonic_time(),
    spawn(fun() -> skynet(Self, 0, Leaves) end),
    %% A spawn that fails (say, +P too small) kills its parent and the sum never comes.
    Sum = receive S -> S after 300000 -> exit(no_sum_in_5_minutes) end,
    Ms = erlang:convert_time_unit(erlang:monotonic_time() - Start, native, millisecond),
    Sum = Leaves * (Leaves - 1) div 2,
    io:format("RESULT erlang_skynet_ms ~b~n", [Ms]),
    io:format("RESULT erlang_skynet_peak_rss_mib ~b~n", [peak_kib() div 1024]),
    halt(0).

skynet(Parent, Number, 1) ->
    Parent ! Number;
skynet(Parent, Number, Size) ->
    Self = self(),
    Step = Size div 10,
    [spawn(fun() -> skynet(Self, Number + Child * Step, Step) end) || Child <- lists:seq(0, 9)],
    Parent ! sum(10, 0).

sum(0, Sum) -> Sum;
sum(Left, Sum) ->
    receive N -> sum(Left - 1, Sum + N) end.

%% The resident set's high-water mark, in KiB.
peak_kib() ->
    {ok, Text} = file:read_file("/proc/self/status"),
    {match, [Kib]} = re:run(Text, "VmHWM:\\s*([0-9]+)", [{capture, all_but_first, binary}]),
    binary_to_integer(Kib).
