#!/usr/bin/env bash
# scripts/screenshots.sh — take the README's screenshots (docs/*.png) from the
# running demo: start `go run ./examples/demo` on a free loopback port with a
# fresh data directory, let it record its own traffic for a while, then drive
# headless Chromium through its pages (examples/demo's TestScreenshots).
#
# Settings (environment):
#   ADDR    where the demo listens      (default 127.0.0.1:18080)
#   WARMUP  seconds of traffic first    (default 90; the dashboard is shot
#           on a 2-minute window)
set -euo pipefail
cd "$(dirname "$0")/.."
addr=${ADDR:-127.0.0.1:18080}
warmup=${WARMUP:-90}
tmp=$(mktemp -d)
go build -o "$tmp/demo" ./examples/demo
"$tmp/demo" -addr "$addr" -data "$tmp/data" 2>"$tmp/demo.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do
	curl -fs -o /dev/null "http://$addr/stats/api/health" && break
	sleep 0.2
done
echo "demo on http://$addr/, recording its own traffic for ${warmup}s"
sleep "$warmup"
APPSTATS_SCREENSHOTS=1 APPSTATS_REQUIRE_BROWSER=1 APPSTATS_DEMO_URL="http://$addr" \
	go test -count=1 -run '^TestScreenshots$' -v ./examples/demo/ | grep -E 'wrote|^(ok|FAIL|---)' 
