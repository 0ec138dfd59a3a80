#!/usr/bin/env bash
# scripts/callgrind-split.sh — what a recorded request of cmd/appstats-bench's
# scenarios adds over a bare one, split by part: the middleware, recording's
# request path, its preparer/writer, the store's Write, the collector,
# allocation, scheduling and the rest. The runs are scripts/callgrind-load.sh's
# (one P, -only bare / -only recorded, N1 and N2 requests, no warm-up), with
# every callgrind file kept; each is read with callgrind_annotate (self
# instructions a function) and, per function, (N2 run − N1 run) ÷ (N2 − N1)
# is its count a request in the steady state, without start-up or a store's
# filling. Functions are grouped by name (see part below), so the small
# parts are approximate; appstats' own parts move little from run to run,
# the scheduling and "other" parts move with the one-P schedule of 8 clients
# (±1,000–2,000 instructions a request). See "twenty-sixth round" in
# docs/BENCHMARKS-history-2.md.
#
# Settings (environment): as scripts/callgrind-load.sh's — BIN, SCENARIOS
# (default hello), N1/N2 (default 8000/12000: memstore full), GC (default
# 100), BALLAST (bytes beside the bare runs: appstats-bench's -ballast) —
# and OUT (the directory the callgrind files are kept in; default a
# temporary one, named on stderr), TOP (also list the TOP functions that differ most).
# Needs valgrind and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIOS=${SCENARIOS:-hello}
GC=${GC:-100} N1=${N1:-8000} N2=${N2:-12000}
if [ -z "${OUT:-}" ]; then
  OUT=$(mktemp -d)
  echo "callgrind-split: the callgrind files go to $OUT (kept, for callgrind_annotate; set OUT to choose)" >&2
fi
mkdir -p "$OUT"
if [ -z "${BIN:-}" ]; then
  BIN=$OUT/appstats-bench
  go build -o "$BIN" ./cmd/appstats-bench
fi
for sc in $SCENARIOS; do
  for n in "$N1" "$N2"; do
    for cfg in bare recorded; do
      ballast=()
      if [ "$cfg" = bare ] && [ -n "${BALLAST:-}" ]; then ballast=(-ballast "$BALLAST"); fi
      f="$OUT/callgrind.out.$sc-$cfg-$n"
      GOMAXPROCS=1 GOGC="$GC" GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --callgrind-out-file="$f" \
        "$BIN" -scenario "$sc" -only "$cfg" -rounds 1 -warmup 0 -duration 10m -requests "$n" -concurrency 8 "${ballast[@]}" >/dev/null 2>&1
      callgrind_annotate --threshold=100 --auto=no "$f" >"$f.txt"
    done
  done
  echo "## $sc (GOGC=$GC, N $N1 → $N2${BALLAST:+, bare beside $BALLAST bytes})"
  python3 - "$OUT" "$sc" "$N1" "$N2" "${TOP:-0}" <<'PY'
import collections, re, sys
out, sc, n1, n2, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def load(cfg, n):
    m, total = collections.Counter(), 0
    for line in open(f"{out}/callgrind.out.{sc}-{cfg}-{n}.txt"):
        mm = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S.*?)(?: \[.*\])?$", line)
        if not mm:
            continue
        v, name = int(mm.group(1).replace(",", "")), re.sub(r"'\d+$", "", mm.group(2))
        if "PROGRAM TOTALS" in name:
            total = v
        else:
            m[name] += v
    return m, total

def per(cfg):
    (a, ta), (b, tb) = load(cfg, n1), load(cfg, n2)
    return {k: (b[k] - a[k]) / (n2 - n1) for k in set(a) | set(b)}, (tb - ta) / (n2 - n1)

def part(name):  # name is file:function
    fn = name.split(":", 1)[-1]
    if "/middleware/" in fn:
        return "middleware"
    if re.search(r"memstore|badgerstore|store/internal|dgraph|ristretto|klauspost|xxhash", name):
        return "store Write"
    if "appstats/recording" in fn:
        if re.search(r"prepare|deliver|sinkQueue|scrub|keptAttrs|keptHeader|headerMap|analy|symbol|price|forgetUserAgent|ownSpare|release|putAll|sameAttrs|sameHeaders|noteSame|capRedacted|handed|knownKept|safeWrite|cleanTexts|reset", fn):
            return "preparer/writer (recording)"
        return "request path (recording)"
    if re.search(r"mgc|mbarrier|mwbbuf|gcWriteBarrier|wbBuf|bulkBarrier|scanblock|scanObject|findObject|typePointers|tryDeferToSpanScan|greyobject|markBits|spanSet|sweep|gcDrain|spanOf|scanSpan|spanInlineMark|pcvalue|runtime\.step$|unwinder|findfunc|funcInfo|scanstack|scanframe|readvarint|funcdata|pcdatavalue", name):
        return "collector"
    if re.search(r"malloc\.go|mcache|mcentral|mheap|mbitmap|msize|mfixalloc|memclrNoHeap|mpagealloc|mpallocbits", name):
        return "allocation"
    if re.search(r"proc\.go|select\.go|chan\.go|netpoll|time\.go|lock_spinbit|lock_futex|os_linux|sema\.go|runtime/sys_linux|asm_amd64\.s:runtime\.(gogo|mcall|systemstack|morestack)|preempt|runtime/stack\.go|signal", name):
        return "scheduling"
    return "other (net/http, handler, load generator, memmove, syscalls)"

(bare, tb), (rec, tr) = per("bare"), per("recorded")
b, r = collections.Counter(), collections.Counter()
for k in set(bare) | set(rec):
    b[part(k)] += bare.get(k, 0)
    r[part(k)] += rec.get(k, 0)
print("| part | bare | recorded | recorded − bare |")
print("|---|--:|--:|--:|")
for p in sorted(set(b) | set(r), key=lambda p: -abs(r[p] - b[p])):
    print(f"| {p} | {b[p]:,.0f} | {r[p]:,.0f} | {r[p] - b[p]:+,.0f} |")
print(f"| whole process | {tb:,.0f} | {tr:,.0f} | {tr - tb:+,.0f} |")
d = {k: rec.get(k, 0) - bare.get(k, 0) for k in set(bare) | set(rec)}
for k in sorted(d, key=lambda k: -abs(d[k]))[:top]:
    print(f"{d[k]:+9.1f}  {part(k)[:12]:12}  {k.split(':', 1)[-1][:100]}")
PY
done
