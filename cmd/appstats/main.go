// Command appstats reads the records of services that appstats records,
// outside those services: it serves the dashboard over a data directory or
// a Redis shared by a fleet, exports and imports records as JSON lines,
// follows new records as they arrive, and prints the stats of a window.
//
//	go install github.com/goappstats/appstats/cmd/appstats@latest
//
// Usage:
//
//	appstats serve  (-data DIR | -redis URL) [-addr 127.0.0.1:8081] [-basic-auth user:pass] [-idle-timeout 2m] [-read-timeout 10s]
//	appstats export (-data DIR | -redis URL) [filters] [-limit N] [-o FILE]
//	appstats import (-data DIR | -redis URL) [FILE ...]
//	appstats tail   (-data DIR | -redis URL) [filters] [-n 10]
//	appstats stats  (-data DIR | -redis URL) [-window 1h]
//
// -data names a service's Badger directory (appstats.Config.Dir), -redis a
// Redis URL (appstats.Config.StoreURL: redis://[user:password@]host:port[/db]
// or rediss://; any node of a Redis Cluster; or, given neither, in
// APPSTATS_REDIS_URL, which keeps its password out of the process list),
// with -prefix (or prefix= in the URL) if the service set one. A data directory is opened read-only, except by import; one
// that a running service holds is read through a copy (badgerstore.Snapshot),
// which serve and tail take again every -refresh, so the dashboard follows
// the service. The filters are the JSON API's: -route, -instance, -status
// (2xx or 404), -min-ms, -error, and the time range -window (a duration up
// to now) or -since and -until (RFC 3339).
//
// serve listens on loopback unless told otherwise; to serve further it
// needs -basic-auth user:pass, or the same in APPSTATS_BASIC_AUTH (which
// keeps the password out of the process list). It closes a connection
// with no request in progress after -idle-timeout (default 2m), and one
// whose request's headers, or then its body, take longer than
// -read-timeout (default 10s) to arrive. It prints to standard error, at
// level WARN, each page or API request that fails, and, over Redis, once
// each (at most one such line every 10 seconds), that Redis went away —
// live updates stopped, with Redis's error — and that it came back, not a
// line for each of its retries. export writes one record
// per line, in the JSON of the dashboard's api/records/{id} (the details
// page's download); import reads that, from files or standard input, and
// skips records already stored, and, into Redis, records older than it
// keeps them (7 days: their keys would expire at once). tail prints the
// newest records, then new ones as they arrive, one line each, until
// interrupted; a failed read (a Redis restarting) is said once and tried
// again. stats prints the RPC, path and instance stats of a window as text
// tables.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/store/redisstore"
)

func main() {
	// go-redis logs failed dials on the standard logger; the commands
	// report their errors themselves.
	redis.SetLogger(redisstore.GoRedisLogger(slog.New(slog.NewTextHandler(os.Stderr, nil)), slog.LevelDebug))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usage is printed for a missing or unknown command.
const usage = `usage: appstats <command> (-data DIR | -redis URL) [flags]

commands:
  serve   serve the dashboard (default 127.0.0.1:8081)
  export  write records as JSON lines
  import  read records from JSON lines into the store
  tail    print new records as they arrive
  stats   print the RPC, path and instance stats of a window

"appstats <command> -h" lists a command's flags.
`

// run runs the command line args and returns the exit status: 0, 1 for a
// failure, 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	commands := map[string]func(context.Context, []string, io.Reader, io.Writer, io.Writer) error{
		"serve":  serve,
		"export": export,
		"import": importRecords,
		"tail":   tail,
		"stats":  stats,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "appstats: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch err := cmd(ctx, args[1:], stdin, stdout, stderr); {
	case err == nil, err == errHelp:
		return 0
	case err == errUsage:
		return 2
	default:
		fmt.Fprintf(stderr, "appstats %s: %v\n", args[0], err)
		return 1
	}
}
