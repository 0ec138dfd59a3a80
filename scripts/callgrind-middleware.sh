#!/usr/bin/env bash
# scripts/callgrind-middleware.sh — instructions per request of the hello
# handler bare, under appstats, otelhttp and x/net/trace, plain and making
# ten calls (middleware/httpstats BenchmarkMiddlewareYield: the peers of
# BenchmarkMiddleware, yielding after each request so that the recorder's
# writer and OTel's batch processor keep up and are counted per request),
# counted by valgrind's callgrind: unlike nanoseconds, instruction counts do
# not move with the load of a shared machine. Each peer runs twice, N1 and
# N2 requests, and the difference divided by N2 − N1 is its count per
# request, without the process's fixed start-up work. Background goroutines
# are counted too. The runs have one P and no garbage collector
# (GOMAXPROCS=1 GOGC=off): otherwise idle Ps spinning for work and whole GC
# cycles, which fall a few per run, make the counts vary by thousands per
# request from run to run. So the counts leave out what the garbage
# collector pays for each allocation (see allocs/op and B/op); and a clock
# read counts a few instructions, whatever it costs in time on a virtual
# machine. (Without the yield, as BenchmarkMiddleware runs, the writer gets
# the one P only when the benchmark goroutine is preempted, and appstats'
# count moves by ±1,500 a request from run to run: docs/BENCHMARKS-history.md,
# "Instructions".)
#
# Output: one markdown row per peer, "| BenchmarkMiddlewareYield/PEER | N |",
# PEER one of bare, appstats, otelhttp, xnettrace and the same with calls-.
#
# Settings (environment): N1 (default 1000), N2 (default 3000), OUT
# (default bench-out). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-1000} N2=${N2:-3000} OUT=${OUT:-bench-out}
mkdir -p "$OUT"
go test -c -o "$OUT/httpstats.test" ./middleware/httpstats/
count() { # count BENCH PEER N: instructions of the whole run
  GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$OUT/httpstats.test" -test.run '^$' -test.bench "^$1\$/^$2\$" -test.benchtime="$3x" 2>&1 >/dev/null |
    awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}
for prefix in "" calls-; do
  for peer in bare appstats otelhttp xnettrace; do
    a=$(count BenchmarkMiddlewareYield "$prefix$peer" "$N1"); b=$(count BenchmarkMiddlewareYield "$prefix$peer" "$N2")
    echo "| BenchmarkMiddlewareYield/$prefix$peer | $(( (b - a) / (N2 - N1) )) |"
  done
done > "$OUT/callgrind.md"
cat "$OUT/callgrind.md"
rm -f "$OUT/httpstats.test"
