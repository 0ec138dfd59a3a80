#!/usr/bin/env bash
# Interoperability test against a real OpenTelemetry backend: starts Jaeger v2
# on loopback (OTLP 127.0.0.1:4317/4318, query API 127.0.0.1:16686) with
# ../shared/tools/jaeger.sh (relative to the repository root; building Jaeger
# takes ~7 minutes the first time), exports appstats records to it over
# OTLP/HTTP and OTLP/gRPC, and checks through Jaeger's query API that each
# trace has the record's spans, names, parent links, start times and
# durations (otelexport's TestJaegerInterop; examples/demo's
# TestJaegerDemoTraffic does the same for the demo's own traffic, whose CI
# twin against the in-process receiver is TestDemoTrafficOTLP).
#
#   scripts/interop-jaeger.sh            # JAEGER_SH=path overrides the tool's location
#
# If a Jaeger is already serving on those loopback ports, it is used as is and
# left running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jaeger=${JAEGER_SH:-$root/../shared/tools/jaeger.sh}
[ -x "$jaeger" ] || { echo "interop-jaeger: $jaeger not found (clone the repo with shared/ beside it, or set JAEGER_SH)" >&2; exit 1; }

if curl -fs -o /dev/null http://127.0.0.1:13133/status; then
  echo "interop-jaeger: using the Jaeger already running on 127.0.0.1"
else
  echo "interop-jaeger: starting Jaeger (builds it first if needed)"
  pid=$("$jaeger" start)
  trap '"$jaeger" stop "$pid" 2>/dev/null || true' EXIT
  echo "interop-jaeger: Jaeger running, pid $pid"
fi

cd "$root"
APPSTATS_JAEGER=http://127.0.0.1:16686 \
APPSTATS_OTLP_HTTP=127.0.0.1:4318 \
APPSTATS_OTLP_GRPC=127.0.0.1:4317 \
  go test -race -count=1 -run '^TestJaeger' -v ./otelexport/ ./examples/demo/
