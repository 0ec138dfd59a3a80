#!/usr/bin/env bash
# scripts/callgrind-traceparent.sh — what net/http alone spends carrying a
# W3C traceparent header (the one header httpstats' transport adds to a
# recorded call), client and server, counted by valgrind's callgrind: a
# loopback GET through a plain http.Transport to a net/http server in the
# same process (as appstats-bench's fanout scenario's backend is), the
# same request with and without a 55-byte traceparent set in a header map
# reused from request to request (the transport's header entries are
# reused, so its calls make no map either). Nothing of appstats runs: the
# difference is the floor that any tracer injecting a traceparent pays in
# net/http, which an instruction count of a recorded fanout call includes.
# As scripts/callgrind-load.sh: one P, no garbage collector, N1 and N2
# calls, the difference ÷ (N2 − N1) per call.
#
# Output: one markdown row per configuration, and the difference.
# Settings (environment): N1 (default 2000), N2 (default 6000), KEEP (a
# directory for each N2 run's callgrind.out). Needs valgrind and go.
set -euo pipefail
N1=${N1:-2000} N2=${N2:-6000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/main.go" <<'GO'
package main

import (
	"flag"
	"io"
	"net"
	"net/http"
	"strconv"
)

func main() {
	n := flag.Int("n", 1000, "calls")
	tp := flag.Bool("tp", false, "send a traceparent")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	go http.Serve(ln, mux)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	base := "http://" + ln.Addr().String() + "/item/"
	h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
	for i := range *n {
		req, err := http.NewRequest("GET", base+strconv.Itoa(i%10), nil)
		if err != nil {
			panic(err)
		}
		if *tp {
			req.Header = h
		}
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
GO
printf 'module tpcost\n\ngo 1.24\n' >"$dir/go.mod"
(cd "$dir" && go build -o tpcost .)
count() { # count TP N OUTFILE: instructions of the whole run
  GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$3" \
    "$dir/tpcost" -n "$2" -tp="$1" 2>&1 >/dev/null | awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}
declare -A per
echo "| net/http loopback GET | instructions a call |"
echo "|---|--:|"
for tp in false true; do
  out=/dev/null
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; out="$KEEP/callgrind.out.traceparent-$tp"; fi
  a=$(count "$tp" "$N1" /dev/null); b=$(count "$tp" "$N2" "$out")
  per[$tp]=$(( (b - a) / (N2 - N1) ))
  echo "| traceparent $tp | ${per[$tp]} |"
done
echo "| the traceparent's cost | $(( per[true] - per[false] )) |"
