#!/usr/bin/env bash
# scripts/callgrind-store.sh — instructions per record written to
# badgerstore (store/badgerstore BenchmarkWrite: 20-call records in batches
# of 256, 20,000 a second of their start): persisted (every record, as
# before the storage budget), over-budget (one route, all but 20 a second
# counted and held in the in-memory ring), mix (ten routes, 1% failed,
# the default budget) and hello (appstats-bench's badger scenario's record:
# no calls, 99.7% over budget), counted by valgrind's callgrind as
# scripts/callgrind-middleware.sh counts requests: two runs of N1 and N2
# records each, the difference divided by N2 − N1, with one P and no
# garbage collector (GOMAXPROCS=1 GOGC=off), Badger's own goroutines
# (its flushes and compactions) counted.
#
# Settings (environment): N1 (default 2048), N2 (default 6144), OUT
# (default bench-out). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-2048} N2=${N2:-6144} OUT=${OUT:-bench-out}
mkdir -p "$OUT"
go test -c -o "$OUT/badgerstore.test" ./store/badgerstore/
count() { # count CASE N: instructions of the whole run
  GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$OUT/badgerstore.test" -test.run '^$' -test.bench "^BenchmarkWrite\$/^$1\$" -test.benchtime="$2x" 2>&1 >/dev/null |
    awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}
for c in persisted over-budget mix hello; do
  a=$(count "$c" "$N1"); b=$(count "$c" "$N2")
  echo "| BenchmarkWrite/$c | $(( (b - a) / (N2 - N1) )) |"
done > "$OUT/callgrind-store.md"
cat "$OUT/callgrind-store.md"
rm -f "$OUT/badgerstore.test"
