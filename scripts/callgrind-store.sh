#!/usr/bin/env bash
# scripts/callgrind-store.sh — instructions per record written to
# badgerstore (store/badgerstore BenchmarkWrite: 20-call records in batches
# of 256, 20,000 a second of their start): persisted (every record, as
# before the storage budget), over-budget (one route, all but 20 a second
# counted and held in the in-memory ring), mix (ten routes, 1% failed,
# the default budget) and hello (appstats-bench's badger scenario's record:
# no calls, 99.7% over budget; hello-fresh the same with the method,
# path, user agent and remote address other strings each record, as a
# net/http server's are), counted by valgrind's callgrind as
# scripts/callgrind-middleware.sh counts requests: two runs of N1 and N2
# records each, the difference divided by N2 − N1, with one P and no
# garbage collector (GOMAXPROCS=1 GOGC=off), Badger's own goroutines
# (its flushes and compactions) counted, without BenchmarkWrite's warm-up
# past the first memtable flush (BADGERSTORE_BENCH_WARMUP=off: millions of
# records, minutes under valgrind, and not what a record costs). Then the same for memstore
# (store/memstore BenchmarkWrite: batches of 128 records into a full store
# of the default capacity): full (storetest.FullRecord, five calls) and
# hello (as badgerstore's hello), MN1 and MN2 batches.
#
# Settings (environment): N1 (default 2048), N2 (default 6144), MN1
# (default 40), MN2 (default 120), STORES (default "badger memstore"), OUT
# (default bench-out), MEMTEST (a built memstore test binary; default:
# built from this tree). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-2048} N2=${N2:-6144} OUT=${OUT:-bench-out}
mkdir -p "$OUT"
STORES=${STORES:-"badger memstore"} MN1=${MN1:-40} MN2=${MN2:-120}
count() { # count BINARY CASE N: instructions of the whole run
  BADGERSTORE_BENCH_WARMUP=off GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$1" -test.run '^$' -test.bench "^BenchmarkWrite\$/^$2\$" -test.benchtime="$3x" 2>&1 >/dev/null |
    awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}
: > "$OUT/callgrind-store.md"
if [[ " $STORES " == *" badger "* ]]; then
  go test -c -o "$OUT/badgerstore.test" ./store/badgerstore/
  for c in persisted over-budget mix hello hello-fresh; do
    a=$(count "$OUT/badgerstore.test" "$c" "$N1"); b=$(count "$OUT/badgerstore.test" "$c" "$N2")
    echo "| BenchmarkWrite/$c | $(( (b - a) / (N2 - N1) )) |"
  done >> "$OUT/callgrind-store.md"
  rm -f "$OUT/badgerstore.test"
fi
if [[ " $STORES " == *" memstore "* ]]; then
  bin=${MEMTEST:-}
  if [ -z "$bin" ]; then
    bin="$OUT/memstore.test"
    go test -c -o "$bin" ./store/memstore/
  fi
  for c in full hello; do # a batch is 128 records
    a=$(count "$bin" "$c" "$MN1"); b=$(count "$bin" "$c" "$MN2")
    echo "| memstore BenchmarkWrite/$c | $(( (b - a) / ((MN2 - MN1) * 128) )) |"
  done >> "$OUT/callgrind-store.md"
  [ -n "${MEMTEST:-}" ] || rm -f "$bin"
fi
cat "$OUT/callgrind-store.md"
