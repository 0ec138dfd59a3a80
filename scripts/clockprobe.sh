#!/usr/bin/env bash
# scripts/clockprobe.sh — run tests with the wall clock standing where the
# project's CI may find it: the last second of an hour or a UTC day, a
# minute past the hour, the end of a minute. CI runs at any time of day; a
# test whose times fall in one hour only when the clock is elsewhere (records
# at now-2m and now-1m, run between hh:01 and hh:02) fails there and not
# here. This finds such tests before CI does.
#
# How: `go test -overlay` replaces two files of the standard library, in a
# copy made from this machine's GOROOT under $OUT:
#   - time.Now() adds an offset in whole seconds, chosen so that the fake
#     clock's second within PERIOD is PHASE when a top-level test starts
#     (and again when a paused parallel test resumes; -parallel 1 keeps
#     them one at a time);
#   - testing's tRunner and T.Parallel restart the fake clock at PHASE for
#     every test at nesting LEVEL or less (1: top-level tests; 2: their
#     subtests too, such as storetest's suite).
# The monotonic clock is untouched: timers, time.Since, deadlines and
# sleeps run as ever. Between tests the wall clock may step back: state kept
# across tests (a server started by TestMain) sees that. Child processes
# started by a test get the same offset.
#
# Limits, so that a failure is checked before it is believed:
#   - only this process's time.Now moves: redis-server, PostgreSQL and
#     Chromium keep the machine's clock. With BEHIND=1 the offset is taken
#     back by one PERIOD (the fake clock is behind theirs, never ahead, so
#     redisstore does not shift records "from the future"); tests that
#     compare the two clocks (redisstore's TestRecordsFromTheFuture, keys
#     expiring by Redis's clock in TestRetentionMaxAge) fail for that alone;
#   - tests in a testing/synctest bubble get the offset too, where CI always
#     starts them at midnight UTC of 2000-01-01;
#   - libfaketime does not help for redis-server (its jemalloc meets
#     libfaketime's clock_gettime recursion and the server does not start).
# Run a failing test again with a control PHASE (1800: mid-hour) before
# calling it clock-dependent.
#
# Usage: scripts/clockprobe.sh PHASE PERIOD [go test arguments...]
#   scripts/clockprobe.sh 3599 3600 ./store/badgerstore/       # hh:59:59
#   scripts/clockprobe.sh 61 3600 -run TestX ./store/redisstore/ # hh:01:01
#   scripts/clockprobe.sh 86399 86400 ./ui/                   # 23:59:59 UTC
#   LEVEL=2 scripts/clockprobe.sh 59 60 ./store/memstore/     # hh:mm:59
# Settings (environment): LEVEL (default 1), BEHIND (unset: offset in
# [0, PERIOD); 1: in [-PERIOD, 0)), OUT (default /tmp/clockprobe: the
# overlay). -count=1 -parallel 1 are passed before the arguments.
set -euo pipefail

if [ $# -lt 3 ]; then
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 2
fi
phase=$1 period=$2
shift 2
case "$phase$period" in *[!0-9]*) echo "clockprobe: PHASE and PERIOD are whole seconds" >&2; exit 2 ;; esac

OUT=${OUT:-/tmp/clockprobe}
GOROOT=$(go env GOROOT)
mkdir -p "$OUT"

# time.go: Now adds fakeOffset; FakeRephase/fakeOffset appended.
src=$GOROOT/src/time/time.go
grep -q '^	sec, nsec, mono := runtimeNow()$' "$src" || { echo "clockprobe: $src has no 'sec, nsec, mono := runtimeNow()' line to patch" >&2; exit 1; }
grep -q '^import ($' "$src" || { echo "clockprobe: $src has no import block" >&2; exit 1; }
{
	sed -e 's/^	sec, nsec, mono := runtimeNow()$/&\n	sec += fakeOffset(sec)/' \
		-e '0,/^import ($/s//import (\n\t"sync\/atomic"\n\t"syscall"/' "$src"
	cat <<'EOF'

// Added by appstats' scripts/clockprobe.sh.

var (
	fakeState atomic.Int32 // 0 not started, 1 running, 2 restart at FAKE_PHASE
	fakeOff   atomic.Int64
)

func fakeEnvInt(name string) (int64, bool) {
	v, ok := syscall.Getenv(name)
	if !ok || v == "" {
		return 0, false
	}
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func fakeItoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

func fakeOffset(sec int64) int64 {
	st := fakeState.Load()
	if st == 1 || !fakeState.CompareAndSwap(st, 1) {
		return fakeOff.Load()
	}
	var off int64
	if o, ok := fakeEnvInt("FAKE_CHILD_OFFSET"); ok && st == 0 {
		off = o // a child process: its parent's offset
	} else if ph, ok := fakeEnvInt("FAKE_PHASE"); ok {
		per, ok := fakeEnvInt("FAKE_PERIOD")
		if !ok || per <= 0 {
			per = 3600
		}
		off = ((ph-sec%per)%per + per) % per
		if _, ok := fakeEnvInt("FAKE_BEHIND"); ok {
			off -= per
		}
	}
	fakeOff.Store(off)
	syscall.Setenv("FAKE_CHILD_OFFSET", fakeItoa(off))
	return off
}

// FakeRephase restarts the fake clock at FAKE_PHASE for a test at nesting
// level, if level is FAKE_LEVEL or less.
func FakeRephase(level int) {
	max, ok := fakeEnvInt("FAKE_LEVEL")
	if !ok {
		max = 1
	}
	if int64(level) <= max {
		fakeState.Store(2)
	}
}
EOF
} > "$OUT/time.go"

# testing.go: every test restarts the fake clock, as does a parallel test
# when it resumes.
src=$GOROOT/src/testing/testing.go
grep -q '^func tRunner(t \*T, fn func(t \*T)) {$' "$src" || { echo "clockprobe: $src has no tRunner to patch" >&2; exit 1; }
grep -q '^	t.start = highPrecisionTimeNow()$' "$src" || { echo "clockprobe: $src has no 't.start = highPrecisionTimeNow()' line to patch" >&2; exit 1; }
sed -e 's/^func tRunner(t \*T, fn func(t \*T)) {$/&\n\ttime.FakeRephase(t.level)/' \
	-e 's/^	t.start = highPrecisionTimeNow()$/\ttime.FakeRephase(t.level)\n&/' "$src" > "$OUT/testing.go"

printf '{"Replace":{"%s":"%s","%s":"%s"}}\n' \
	"$GOROOT/src/time/time.go" "$OUT/time.go" \
	"$GOROOT/src/testing/testing.go" "$OUT/testing.go" > "$OUT/overlay.json"

export FAKE_PHASE=$phase FAKE_PERIOD=$period FAKE_LEVEL=${LEVEL:-1}
if [ -n "${BEHIND:-}" ]; then
	export FAKE_BEHIND=1
fi
exec go test -overlay "$OUT/overlay.json" -count=1 -parallel 1 "$@"
