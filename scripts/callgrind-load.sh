#!/usr/bin/env bash
# scripts/callgrind-load.sh — instructions per request of cmd/appstats-bench's
# scenarios, bare and recorded, counted by valgrind's callgrind: the load
# test's throughput ratios move with the load of a shared machine, an
# instruction count does not. Each configuration runs alone
# (appstats-bench -only), twice, with N1 and N2 requests in one round and
# no warm-up; the difference divided by N2 − N1 is its count per request —
# the load generator, the server, the handler and the recorder's
# background work together — without the process's fixed start-up work.
# As scripts/callgrind-middleware.sh: one P and no garbage collector
# (GOMAXPROCS=1 GOGC=off), so the counts leave out the collector's work
# for each allocation. In the flight scenario the flight recorder's
# snapshots (at most 2 a minute) fall by time, not by request: a run under
# callgrind lasts seconds to a minute, so each run takes one or two.
#
# Output: one markdown row per scenario: bare, recorded, recorded − bare,
# recorded ÷ bare.
#
# Settings (environment): BIN (a built appstats-bench; default: built from
# this tree), SCENARIOS (default "flight fanout"), N1/N2 per scenario
# (defaults 1000/3000, fanout 200/600), KEEP (a directory to keep each N2
# run's callgrind.out in, for callgrind_annotate), GC (GOGC for the runs,
# default off; GC=100 counts the collector's marking and write barriers too,
# which an -only bare run does not share with the recorded one's store: see
# "What recording costs under load that callgrind does not see" in
# docs/BENCHMARKS-history.md), BALLAST (bytes: with GC=100, the bare runs beside
# a pointer-free array that size, appstats-bench's -ballast: the heap the
# recorded run held, which the load test's bare rounds run beside with
# -bare matched; without it a bare run alone is collected at the
# runtime's 4 MiB floor, far more often for its bytes than the recorded
# one: see "twenty-sixth round" in docs/BENCHMARKS-history-2.md). Needs
# valgrind.
#
# The ui scenario's dashboard client refreshes by the wall clock (at most
# once a second, on news), not by request: under callgrind a run serves a
# few thousand requests a second, the load test tens of thousands, so a
# refresh falls on far fewer requests here. For ui the script also prints
# each recorded run's refreshes and "records" events (from
# appstats-bench's report); read its recorded figure against badger's, per
# refresh: (ui − badger) × (N2 − N1) ÷ (the N2 run's refreshes − the N1
# run's). The top ServeMux in front of /stats/ is in both of ui's
# configurations, not in badger's.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIOS=${SCENARIOS:-"flight fanout"}
if [ -z "${BIN:-}" ]; then
  BIN=$(mktemp -d)/appstats-bench
  go build -o "$BIN" ./cmd/appstats-bench
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
# Valgrind 3.19's callgrind aborts some runs of the ui scenario (an
# assertion in threads.c, vgCallgrind_post_signal); such a run is tried
# again, three times at most.
count() { # count SCENARIO CONFIG N OUTFILE: instructions of the whole run (its report in $report)
  local ballast=() try n
  if [ "$2" = bare ] && [ -n "${BALLAST:-}" ]; then ballast=(-ballast "$BALLAST"); fi
  for try in 1 2 3; do
    if n=$(GOMAXPROCS=1 GOGC="${GC:-off}" GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$4" \
      "$BIN" -scenario "$1" -only "$2" -rounds 1 -warmup 0 -duration 10m -requests "$3" -concurrency 8 "${ballast[@]}" 2>&1 >"$report" |
      awk '/I *refs:/ { gsub(",", "", $NF); print $NF }') && [ -n "$n" ]; then
      echo "$n"
      return
    fi
    echo "callgrind-load: $1 $2 $3: the run failed (try $try of 3)" >&2
  done
  return 1
}
# dash: the dashboard client's refreshes and events in the last run's report.
dash() {
  sed -n 's/.* \([0-9]*\) "records" events received, \([0-9]*\) refreshes.*/\2 refreshes, \1 events/p' "$report"
}
echo "| scenario | N1, N2 | bare | recorded | recorded − bare | recorded ÷ bare |"
echo "|---|--:|--:|--:|--:|--:|"
notes=()
for sc in $SCENARIOS; do
  n1=1000 n2=3000
  if [ "$sc" = fanout ] || [ "$sc" = otel-fanout ]; then n1=200 n2=600; fi
  n1=${N1:-$n1} n2=${N2:-$n2}
  declare -A per
  for cfg in bare recorded; do
    out=/dev/null
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; out="$KEEP/callgrind.out.$sc-$cfg"; fi
    a=$(count "$sc" "$cfg" "$n1" /dev/null)
    if [ "$sc" = ui ] && [ "$cfg" = recorded ]; then da=$(dash); fi
    b=$(count "$sc" "$cfg" "$n2" "$out")
    if [ "$sc" = ui ] && [ "$cfg" = recorded ]; then db=$(dash); fi
    per[$cfg]=$(( (b - a) / (n2 - n1) ))
  done
  if [ "$sc" = ui ]; then notes+=("ui's dashboard client in the recorded runs: $da ($n1 requests), $db ($n2 requests)."); fi
  awk -v s="$sc" -v n="$n1, $n2" -v b="${per[bare]}" -v r="${per[recorded]}" \
    'BEGIN { printf "| %s | %s | %d | %d | %d | %.3f |\n", s, n, b, r, r - b, r / b }'
done
for n in "${notes[@]}"; do echo; echo "$n"; done
