#!/usr/bin/env bash
# suites.sh runs other projects' own test suites bare and through appstats'
# wrappers, against real servers started here on loopback, and prints a
# bare-vs-wrapped comparison of every test's outcome.
#
#   scripts/suites.sh [pq] [pgx] [redis] [redisginkgo] [sqlite]   (default: all)
#
# redis is go-redis' plain tests (one redis-server), redisginkgo its Ginkgo
# suite (with the ring shards, sentinels and cluster it dials). Every server
# listens on a free loopback port picked at the start (SUITES_PGPORT sets
# PostgreSQL's): go-redis' tests name fixed ports (:6379, the shards' 6390…,
# the cluster's 16600…), which are rewritten to the picked ones in both
# copies of its tests, bare and wrapped alike. On a 2-core machine pq takes
# half a minute, pgx one, sqlite 10, redisginkgo 12 and redis 15.
#
# Each module is taken at the version appstats' go.mod requires, from the
# module cache (go mod download), and copied under $SUITES_DIR
# (default /tmp/appstats-suites) twice: as it is ("bare"), and patched so that
# its driver or dialer goes through middleware/sqlstats or middleware/netstats,
# with this repo `replace`d in its go.mod. The patched copy runs twice:
#   wrapped   the suite's calls go through the wrappers with no request
#             recorded (the pass-through path);
#   recorded  the same, built with -overlay so that context.Background and
#             context.TODO carry an appstats record (scripts/suites/hook.go):
#             every call the suite makes is recorded.
# A test whose outcome differs between bare and a wrapped run is listed.
# APPSTATS_SUITE_NET_MODE=per-op makes go-redis' netstats connections record
# each Read and Write (netstats.PerOp) instead of one call a connection.
# Needs PostgreSQL's server (initdb, pg_ctl, psql) and redis-server; runs
# as root (PostgreSQL then runs as the postgres user) or as another user.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=$REPO/scripts/suites
WORK=${SUITES_DIR:-/tmp/appstats-suites}
TIMEOUT=${SUITES_TIMEOUT:-20m}
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(pq pgx redis redisginkgo sqlite)

mkdir -p "$WORK/results"
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local

# ---- servers ---------------------------------------------------------------

# freeports N M [TAKEN…]: N+M free loopback ports, one a line, the last M
# with P+10000 free too (a Redis cluster node's bus port). No two of the
# ports, the M bus ports and the TAKEN ones are equal: every server gets its
# own. A port is free when it can be bound now; the servers bind them soon
# after. It fails when it finds too few.
freeports() {
	python3 - "$@" <<-'PY'
	import random, socket, sys
	n, m, bus = int(sys.argv[1]), int(sys.argv[2]), 10000
	used = {int(a) for a in sys.argv[3:]}  # picked ports, their bus ports, TAKEN
	def free(p):
	    s = socket.socket()
	    try:
	        s.bind(("127.0.0.1", p))
	        return True
	    except OSError:
	        return False
	    finally:
	        s.close()
	got = []
	for _ in range(100000):
	    if len(got) == n + m:
	        break
	    gap = bus if len(got) >= n else 0
	    p = random.randint(20000, 65535 - gap)
	    want = [p, p + gap] if gap else [p]
	    if any(q in used for q in want) or not all(free(q) for q in want):
	        continue
	    used.update(want)
	    got.append(p)
	else:
	    sys.exit("suites.sh: too few free ports")
	print("\n".join(map(str, got)))
	PY
}

# The ports go-redis' tests name, and the free ones that stand for them,
# picked with PostgreSQL's in one call (see freeports).
REDIS_FIXED=(6379 6390 6391 6392 9121 9122 9123 26379 26380 26381)
CLUSTER_FIXED=(16600 16601 16602 16603 16604 16605)
if [ -n "${SUITES_PGPORT:-}" ]; then
	mapfile -t PORTS < <(freeports ${#REDIS_FIXED[@]} ${#CLUSTER_FIXED[@]} "$SUITES_PGPORT")
	PGPORT=$SUITES_PGPORT
else
	mapfile -t PORTS < <(freeports $((${#REDIS_FIXED[@]} + 1)) ${#CLUSTER_FIXED[@]})
	PGPORT=${PORTS[${#REDIS_FIXED[@]}]:-}
	PORTS=("${PORTS[@]:0:${#REDIS_FIXED[@]}}" "${PORTS[@]:${#REDIS_FIXED[@]}+1}")
fi
# mapfile does not see freeports fail: count what it printed.
[ ${#PORTS[@]} = $((${#REDIS_FIXED[@]} + ${#CLUSTER_FIXED[@]})) ] && [ -n "$PGPORT" ] ||
	{ echo "suites.sh: could not pick the servers' ports" >&2; exit 1; }
REDIS_FREE=("${PORTS[@]:0:${#REDIS_FIXED[@]}}")
CLUSTER_FREE=("${PORTS[@]:${#REDIS_FIXED[@]}}")
# port P: the free port that stands for go-redis' fixed port P. It is
# called in $(…), whose exit would only leave that subshell: an unknown P
# stops the script (its EXIT trap stops the servers).
port() {
	local i
	for i in "${!REDIS_FIXED[@]}"; do [ "${REDIS_FIXED[$i]}" = "$1" ] && { echo "${REDIS_FREE[$i]}"; return; }; done
	for i in "${!CLUSTER_FIXED[@]}"; do [ "${CLUSTER_FIXED[$i]}" = "$1" ] && { echo "${CLUSTER_FREE[$i]}"; return; }; done
	echo "suites.sh: no port for $1" >&2
	kill -s TERM $$
	exit 1
}
REDISPORT=$(port 6379)

# redisports DIR: rewrites go-redis' fixed ports to the free ones in DIR's
# tests, where they stand as a port (after a quote or a colon) — but in
# options_test.go and command_cluster_shards_test.go, where 6379 is the
# default a parsed URL gets or a port in a reply, not a server dialed.
redisports() {
	local f expr="" p
	for p in "${REDIS_FIXED[@]}" "${CLUSTER_FIXED[@]}"; do expr+="s/(?<=[\":])$p\\b/$(port "$p")/g; "; done
	for f in "$1"/*_test.go; do
		case ${f##*/} in options_test.go | command_cluster_shards_test.go) continue ;; esac
		perl -pi -e "$expr" "$f"
	done
	grep -q "\"$(port 6390)\"" "$1/main_test.go" || { echo "suites.sh: ports of $1 not rewritten" >&2; exit 1; }
}
PGDIR=$WORK/pg
PGBIN=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi

stop_servers() {
	[ -d "$PGDIR/data" ] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	if [ -f "$WORK/redis.pid" ]; then
		local pid
		pid=$(cat "$WORK/redis.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$WORK/redis.pid"
}
trap stop_servers EXIT

start_postgres() {
	[ -n "${PG_STARTED:-}" ] && return
	stop_servers
	rm -rf "$PGDIR"
	mkdir -p "$PGDIR"
	[ "$(id -u)" = 0 ] && chown postgres: "$PGDIR"
	"${AS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
	"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -t 60 \
		-o "-k $PGDIR -p $PGPORT -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200 -c max_prepared_transactions=10" start >/dev/null
	psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=0 >/dev/null 2>&1 <<-SQL
	create role pqgo superuser login;
	create database pqgo owner pqgo;
	create database pgx_test;
	SQL
	psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d pqgo -c 'create extension if not exists hstore' >/dev/null 2>&1 || true
	PG_STARTED=1
}

start_redis() {
	[ -f "$WORK/redis.pid" ] && return
	redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no \
		--enable-debug-command yes --daemonize yes --pidfile "$WORK/redis.pid" --dir "$WORK" >/dev/null
	for _ in $(seq 50); do redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
}

# ---- modules ---------------------------------------------------------------

# fetch NAME MODULE: copies MODULE at appstats' version to $WORK/NAME-bare and
# $WORK/NAME-wrapped, the latter with the harness package and appstats
# replaced by this repo.
fetch() {
	local name=$1 mod=$2 ver dir
	ver=$(cd "$REPO" && go list -m -f '{{.Version}}' "$mod")
	dir=$(cd "$REPO" && go mod download -json "$mod@$ver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	for m in bare wrapped; do
		rm -rf "$WORK/$name-$m"
		cp -r "$dir" "$WORK/$name-$m"
		chmod -R u+w "$WORK/$name-$m"
	done
	local w=$WORK/$name-wrapped
	mkdir -p "$w/appstatsharness"
	sed '1,2d' "$HARNESS/harness.go" >"$w/appstatsharness/harness.go"
	(cd "$w" && go mod edit -require=github.com/goappstats/appstats@v0.0.0 -replace=github.com/goappstats/appstats="$REPO")
	echo "$name: $mod@$ver" >>"$WORK/results/versions.txt"
}

# overlay NAME: writes the overlay of NAME's recorded run: context.go with
# Background and TODO asking a hook, and the hook in the harness package.
overlay() {
	local name=$1 w=$WORK/$1-wrapped goroot
	goroot=$(go env GOROOT)
	mkdir -p "$WORK/overlay"
	if [ ! -f "$WORK/overlay/context.go" ]; then
		sed -e 's/^\t\tcase backgroundCtx, todoCtx:$/\t\tcase backgroundCtx, todoCtx:\n\t\t\treturn backgroundValueOf(key)/' \
			"$goroot/src/context/context.go" |
			awk 'BEGIN{skip=0} /return backgroundValueOf\(key\)/{print; skip=1; next} skip==1{skip=0; if ($0 ~ /return nil/) next} {print}' \
				>"$WORK/overlay/context.go"
		cat >"$WORK/overlay/context_hook.go" <<-'GO'
		package context

		import "sync/atomic"

		var backgroundValue atomic.Pointer[func(key any) any]

		// SetBackgroundValue makes Background and TODO answer Value with f
		// (scripts/suites.sh's recorded runs only).
		func SetBackgroundValue(f func(key any) any) { backgroundValue.Store(&f) }

		func backgroundValueOf(key any) any {
			if f := backgroundValue.Load(); f != nil {
				return (*f)(key)
			}
			return nil
		}

		func (backgroundCtx) Value(key any) any { return backgroundValueOf(key) }
		func (todoCtx) Value(key any) any       { return backgroundValueOf(key) }
		GO
		grep -q 'return backgroundValueOf(key)' "$WORK/overlay/context.go" || { echo "suites.sh: context.go not patched" >&2; exit 1; }
	fi
	sed '1,2d' "$HARNESS/hook.go" >"$WORK/overlay/$name-hook.go"
	cat >"$WORK/overlay/$name.json" <<-JSON
	{"Replace": {
	  "$goroot/src/context/context.go": "$WORK/overlay/context.go",
	  "$goroot/src/context/appstats_hook.go": "$WORK/overlay/context_hook.go",
	  "$w/appstatsharness/hook.go": "$WORK/overlay/$name-hook.go"
	}}
	JSON
}

# patch FILE PERL-EXPR: edits FILE in place and fails if nothing changed.
patch() {
	local f=$1
	shift
	cp "$f" "$f.orig"
	perl -0pi -e "$@" "$f"
	if cmp -s "$f" "$f.orig"; then echo "suites.sh: patch of $f changed nothing" >&2; exit 1; fi
	rm "$f.orig"
}

# addimport FILE PATH: adds an import to FILE's first import block.
addimport() { patch "$1" 's/^import \(\n/import (\n\t"'"${2//\//\\/}"'"\n/m'; }

# run NAME MODE PKGS...: runs the suite, one line per test: STATUS NAME.
run() {
	local name=$1 mode=$2 dir
	shift 2
	dir=$WORK/$name-$mode
	local flags=()
	if [ "$mode" = recorded ]; then
		dir=$WORK/$name-wrapped
		flags=(-overlay "$WORK/overlay/$name.json")
		export APPSTATS_SUITE_CALLS=$WORK/results/$name-recorded.calls
	fi
	local t0=$SECONDS
	(cd "$dir" && go test "${flags[@]}" -vet=off -count=1 -p 1 -timeout "$TIMEOUT" -json "$@" >"$WORK/results/$name-$mode.json" 2>"$WORK/results/$name-$mode.stderr") || true
	unset APPSTATS_SUITE_CALLS
	# A test's outcome; a package that failed to build, or a test binary
	# that died, is one line of its own.
	jq -r 'select(.Action=="pass" or .Action=="fail" or .Action=="skip") | "\(.Action) \(.Package | sub(".*/(?<p>[^/]+)$"; "\(.p)"))/\(.Test // "(package)")"' \
		"$WORK/results/$name-$mode.json" | sort -k2 >"$WORK/results/$name-$mode.txt"
	echo "  $name $mode: $(awk '{n[$1]++} END {printf "%d passed, %d failed, %d skipped", n["pass"], n["fail"], n["skip"]}' "$WORK/results/$name-$mode.txt") ($((SECONDS - t0)) s)"
}

# outcomes FILE: one line per test name, STATUSES NAME, sorted by name; a
# name that several tests share (Ginkgo's specs may) has their statuses
# joined by commas, in order.
outcomes() {
	sort -k2,2 -k1,1 "$1" | awk '$2 != k { if (k != "") print s, k; k = $2; s = $1; next } { s = s "," $1 } END { if (k != "") print s, k }'
}

# compare NAME: lists every test whose outcome differs from bare.
compare() {
	local name=$1 m
	for m in wrapped recorded; do
		[ -f "$WORK/results/$name-$m.txt" ] || continue
		local d
		d=$(join -j 2 -a 1 -a 2 -e missing -o 0,1.1,2.1 <(outcomes "$WORK/results/$name-bare.txt") <(outcomes "$WORK/results/$name-$m.txt") | awk '$2 != $3')
		if [ -z "$d" ]; then
			echo "  $name $m: every test as bare"
		else
			echo "  $name $m: differs from bare (test, bare, $m):"
			echo "$d" | sed 's/^/    /'
		fi
	done
	[ -f "$WORK/results/$name-recorded.calls" ] && echo "  $name recorded: $(cat "$WORK/results/$name-recorded.calls")"
	return 0
}

# ---- suites ----------------------------------------------------------------

suite_pq() {
	fetch pq github.com/lib/pq
	local w=$WORK/pq-wrapped
	# Every sql.Open("postgres", …) of the suite — pqtest.DB, its helper —
	# opens through sqlstats.
	patch "$w/conn.go" 's/sql\.Register\("postgres", &Driver\{\}\)/sql.Register("postgres", appstatsharness.Driver(&Driver{}))/'
	addimport "$w/conn.go" github.com/lib/pq/appstatsharness
	overlay pq
	start_postgres
	# lib/pq's own set-up (roles for each authentication method, its
	# pg_hba.conf, TLS with its certificates), as its CI's container does.
	local td=$WORK/pq-bare/testdata
	mkdir -p "$PGDIR/ssl"
	cp "$td"/ssl/*.key "$td"/ssl/*.crt "$PGDIR/ssl/"
	chmod 600 "$PGDIR"/ssl/*
	[ "$(id -u)" = 0 ] && chown -R postgres: "$PGDIR/ssl"
	cp "$td/postgres/pg_hba.conf" "$PGDIR/data/pg_hba.conf"
	[ "$(id -u)" = 0 ] && chown postgres: "$PGDIR/data/pg_hba.conf"
	sed -e "s|/ssl2/|$PGDIR/ssl/|" "$td/postgres/docker-entrypoint-initdb.d/20-config.sql" |
		psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres >/dev/null 2>&1 || true
	"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -w restart -m fast >/dev/null
	export PGHOST=127.0.0.1 PGPORT PGUSER=pqgo PGDATABASE=pqgo PGSSLMODE=disable
	for m in bare wrapped recorded; do run pq "$m" .; done
	unset PGHOST PGUSER PGDATABASE PGSSLMODE
}

suite_pgx() {
	fetch pgx github.com/jackc/pgx/v5
	local w=$WORK/pgx-wrapped
	# stdlib.OpenDB, OpenDBFromPool and the registered driver go through
	# sqlstats; the tests that take the driver's connection from
	# database/sql's Conn.Raw unwrap it first (Raw gives the wrapper).
	patch "$w/stdlib/sql.go" 's/sql\.OpenDB\(c\)/sql.OpenDB(appstatsharness.Connector(c))/g; s/sql\.Register\("pgx", pgxDriver\)/sql.Register("pgx", appstatsharness.Driver(pgxDriver))/; s/sql\.Register\("pgx\/v5", pgxDriver\)/sql.Register("pgx\/v5", appstatsharness.Driver(pgxDriver))/'
	addimport "$w/stdlib/sql.go" github.com/jackc/pgx/v5/appstatsharness
	if [ -z "${SUITES_NO_UNWRAP:-}" ]; then
		patch "$w/stdlib/sql_test.go" 's/driverConn\.\(\*stdlib\.Conn\)/appstatsharness.Unwrap(driverConn).(*stdlib.Conn)/g'
		addimport "$w/stdlib/sql_test.go" github.com/jackc/pgx/v5/appstatsharness
	fi
	overlay pgx
	start_postgres
	# pgx's own set-up (extensions, types, roles), as its CI does.
	(cd "$WORK/pgx-bare/testsetup" && psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d pgx_test -f postgresql_setup.sql >/dev/null 2>&1) || true
	export PGX_TEST_DATABASE="host=127.0.0.1 port=$PGPORT user=postgres database=pgx_test sslmode=disable"
	for m in bare wrapped recorded; do run pgx "$m" ./stdlib; done
	unset PGX_TEST_DATABASE
}

suite_redis() {
	fetch redis github.com/redis/go-redis/v9
	local w=$WORK/redis-wrapped
	redisports "$WORK/redis-bare"
	redisports "$w"
	# The default Dialer of every client (single, cluster, ring, sentinel)
	# dials through a netstats.Dialer of the same net.Dialer.
	patch "$w/options.go" 's/return netDialer\.DialContext\(ctx, network, addr\)/return appstatsharness.DialContext(ctx, netDialer, network, addr)/'
	addimport "$w/options.go" github.com/redis/go-redis/v9/appstatsharness
	overlay redis
	start_redis
	# The root package's tests but its Ginkgo suite, whose BeforeSuite needs
	# the servers of its docker compose (ring shards, sentinels, a cluster,
	# Redis Stack's modules): the plain tests need one redis-server at :6379.
	for m in bare wrapped recorded; do run redis "$m" -skip '^TestGinkgoSuite$' .; done
}

suite_sqlite() {
	fetch sqlite modernc.org/sqlite
	local w=$WORK/sqlite-wrapped f m
	# Its two "context expiring" cases cancel 1000 times, 200 ms each (7 of
	# the suite's 9 minutes): 50 times in both copies.
	for m in bare wrapped; do
		patch "$WORK/sqlite-$m/func_test.go" 's/for try := 0; try < 1000; try\+\+ \{\n(\t+)ctx, cancel := context\.WithCancel/for try := 0; try < 50; try++ {\n$1ctx, cancel := context.WithCancel/g'
	done
	# sql.Open("sqlite", …) goes through sqlstats; the tests that take the
	# driver's connection from database/sql's Conn.Raw unwrap it first (Raw
	# gives the wrapper: SUITES_NO_UNWRAP=1 leaves them as they are).
	patch "$w/sqlite.go" 's/sql\.Register\(driverName, defaultDriver\(\)\)/sql.Register(driverName, appstatsharness.Driver(defaultDriver()))/'
	addimport "$w/sqlite.go" modernc.org/sqlite/appstatsharness
	if [ -z "${SUITES_NO_UNWRAP:-}" ]; then
		for f in "$w"/*_test.go; do
			grep -qE '\b(driverConn|dc)\.\(|\bc\.\(interface\{ IsReadOnly' "$f" || continue
			patch "$f" 's/\b(driverConn|dc)\.\(/appstatsharness.Unwrap($1).(/g; s/\bc\.\(interface\{ IsReadOnly/appstatsharness.Unwrap(c).(interface{ IsReadOnly/g'
			addimport "$f" modernc.org/sqlite/appstatsharness
		done
	fi
	overlay sqlite
	for m in bare wrapped recorded; do run sqlite "$m" .; done
}

# start_redis_fleet starts what go-redis' Ginkgo suite dials besides :6379:
# ring shards, a sentinel master with two replicas, three sentinels and a
# six-node cluster (its BeforeSuite makes the cluster and the replicas).
start_redis_fleet() {
	local d=$WORK/redis-fleet p
	rm -rf "$d"
	mkdir -p "$d"
	for p in $(port 6390) $(port 6391) $(port 6392) $(port 9121) $(port 9122) $(port 9123); do
		redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
			--pidfile "$d/$p.pid" --dir "$d" --dbfilename "$p.rdb" >/dev/null
	done
	for p in "${CLUSTER_FREE[@]}"; do
		redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
			--cluster-enabled yes --cluster-config-file "nodes-$p.conf" \
			--pidfile "$d/$p.pid" --dir "$d" --dbfilename "$p.rdb" >/dev/null
	done
	for p in $(port 26379) $(port 26380) $(port 26381); do
		printf 'port %s\nbind 127.0.0.1\ndaemonize yes\npidfile %s\ndir %s\n' "$p" "$d/$p.pid" "$d" >"$d/sentinel-$p.conf"
		redis-server "$d/sentinel-$p.conf" --sentinel >/dev/null
	done
	sleep 1
}

# stop_redis_fleet stops the fleet and waits until each server has gone, so
# that the next fleet can bind the same ports.
stop_redis_fleet() {
	local f pid
	for f in "$WORK"/redis-fleet/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
}

suite_redisginkgo() {
	fetch redisginkgo github.com/redis/go-redis/v9
	local w=$WORK/redisginkgo-wrapped m
	redisports "$WORK/redisginkgo-bare"
	redisports "$w"
	patch "$w/options.go" 's/return netDialer\.DialContext\(ctx, network, addr\)/return appstatsharness.DialContext(ctx, netDialer, network, addr)/'
	addimport "$w/options.go" github.com/redis/go-redis/v9/appstatsharness
	overlay redisginkgo
	export REDIS_VERSION=${SUITES_REDIS_VERSION:-$(redis-server --version | sed -n 's/.*v=\([0-9]*\.[0-9]*\).*/\1/p')}
	for m in bare wrapped recorded; do
		# A fresh fleet for each run: the suite leaves keys, replicas and a
		# cluster behind.
		stop_servers
		stop_redis_fleet
		start_redis
		start_redis_fleet
		# One seed for the three runs: some specs depend on what others
		# leave (an ACL user "test"), and Ginkgo shuffles them by its seed.
		run redisginkgo "$m" -run '^TestGinkgoSuite$' . -ginkgo.seed="${SUITES_GINKGO_SEED:-1}" \
			-ginkgo.json-report="$WORK/results/redisginkgo-$m.report.json"
		# One line per spec, from Ginkgo's report.
		jq -r '.[].SpecReports[]? | "\(.State) \((.ContainerHierarchyTexts + [.LeafNodeText]) | join("/") | gsub("[[:space:]]"; "_"))"' \
			"$WORK/results/redisginkgo-$m.report.json" 2>/dev/null | sort -k2 >"$WORK/results/redisginkgo-$m.txt" || true
		echo "    specs: $(awk '{n[$1]++} END {for (k in n) printf "%s %d, ", k, n[k]}' "$WORK/results/redisginkgo-$m.txt")"
	done
	stop_redis_fleet
	unset REDIS_VERSION
}

rm -f "$WORK/results/versions.txt"
for s in "${SUITES[@]}"; do
	echo "== $s"
	"suite_$s"
done
echo
echo "== bare vs wrapped"
cat "$WORK/results/versions.txt"
for s in "${SUITES[@]}"; do compare "$s"; done
