%% Benchmark (runs on Erlang/OTP, beside benches/park.rs): in a freshly started VM, spawns N
%% processes (default 10,000, the count benches/run.sh parks) that park in `receive`, and
%% reports microseconds per spawn and the memory each parked process costs. Prints
%% `RESULT erlang_<name> <value>` lines for benches/run.sh.
%%
%% Memory is measured the way run.sh measures the VM's: the OS's proportional set size
%% (/proc/self/smaps_rollup Pss) plus page tables (VmPTE in /proc/self/status), with N
%% parked minus the same before spawning, over N, in KiB. Erlang's own count
%% (erlang:memory(total), the allocators' view) is printed beside it.
%%
%% Standalone: erlc -o /tmp benches/erlang/bench_park.erl &&
%%             erl -noshell -pa /tmp -run bench_park main [N]
%% (past 262,144 processes add +P, e.g. `erl +P 2000000 ...`)
-module(bench_park).
-export([main/0, main/1]).

main() -> main([]).

main(Args) ->
    Count = case Args of
                [N | _] -> list_to_integer(N);
                [] -> 10000
            end,
    settle(),
    BaseKib = os_kib(),
    BaseTotal = erlang:memory(total),
    Start = erlang:monotonic_time(),
    Parked = [spawn(fun park/0) || _ <- lists:seq(1, Count)],
    Us = erlang:convert_time_unit(erlang:monotonic_time() - Start, native, nanosecond)
        / 1000 / Count,
    io:format("RESULT erlang_parked ~b~n", [length(Parked)]),
    io:format("RESULT erlang_park_spawn_us ~.2f~n", [Us]),
    %% run.sh reads the VM's memory half a second after the guest says READY.
    settle(),
    io:format("RESULT erlang_parked_kib_per_process ~.1f~n", [(os_kib() - BaseKib) / Count]),
    io:format("RESULT erlang_parked_memory_total_kib_per_process ~.2f~n",
              [(erlang:memory(total) - BaseTotal) / 1024 / Count]),
    halt(0).

park() ->
    receive _ -> ok end.

settle() ->
    timer:sleep(500),
    erlang:garbage_collect().

%% Proportional set size plus page tables, in KiB.
os_kib() ->
    field("/proc/self/smaps_rollup", <<"Pss:">>) + field("/proc/self/status", <<"VmPTE:">>).

field(File, Name) ->
    {ok, Text} = file:read_file(File),
    [Value] = [binary_to_integer(hd(binary:split(string:trim(Rest), <<" ">>)))
               || Line <- binary:split(Text, <<"\n">>, [global]),
                  <<Key:(byte_size(Name))/binary, Rest/binary>> <- [Line],
                  Key =:= Name],
    Value.
