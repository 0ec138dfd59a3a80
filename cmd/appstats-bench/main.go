// Command appstats-bench measures what recording costs a running service: it
// starts a loopback HTTP server and a load generator in one process and
// alternates rounds without recording ("bare") and with it ("recorded") —
// bare, recorded, recorded, bare, bare, recorded, … — so that drift of the
// machine (other processes, thermal limits, caches) falls on both
// configurations alike, and neither always follows the other.
//
// For each configuration it prints requests per second, the median and 99th
// percentile latency, and the CPU time the process spent per request
// (getrusage: user + system, of the whole process — the load generator, the
// server and the recorder's background writer), then the ratios
// recorded/bare. The DESIGN.md target is a throughput ratio of at least 0.95.
// Every ratio comes with a 95% interval from its pairs of rounds (a
// t-interval over the logs of the pair ratios, see interval.go, which
// counts n pairs as n(1−r)/(1+r) independent ones when consecutive pairs
// are correlated, r their logs' lag-one autocorrelation above 0: an
// episode of the machine longer than a pair moves several pairs alike;
// the summary names the scenarios so counted), and the target's verdict
// is on it: MET only if the whole interval is at or above
// 0.95, MISSED only if it is all below, UNDECIDED otherwise — a noisy run
// decides nothing, nor does a run whose A/A arm's interval excludes 1
// (every verdict then UNDECIDED). Beside it, the same ratio by CPU per request (bare ÷
// recorded, per pair, with its interval), which the CPU share a shared
// machine gives each round does not move; and, with the A/A arm, how much
// of the pairs' spread came from that share and how much from CPU per
// request.
// It also prints, per request of each configuration, what the Go runtime
// counted over its rounds (runtime/metrics): bytes and objects allocated,
// garbage collections, and the collector's CPU time as the runtime
// estimates it; and what an instruction count does not see: how often
// goroutines were scheduled (the count of /sched/latencies), the
// process's voluntary and involuntary context switches and minor page
// faults (getrusage), the time goroutines waited for a sync.Mutex and the
// scavenger's CPU. A speed probe (-probe, every 20 ms by default; not
// with -only, whose instructions callgrind counts) runs fixed kernels on a
// thread of its own through the run, each timed by that thread's CPU time
// (probe.go): how fast the CPU executed them in each round, whatever share
// of it the process got. The summary shows each scenario's pairs of probe
// times, how well they track the pairs' CPU per request, a speed-adjusted
// ratio with its interval (shown, not judged), and which of the round's
// figures moves with its CPU per request. -roundscsv writes every measured
// round's figures to a CSV file. -trace writes an execution trace of the run (with
// -only, of one configuration: go tool trace shows each goroutine's
// wakeups and the procs started for them). -heapprofiles writes a heap profile after each scenario's
// last recorded round: what its stores and the recorder hold; the report
// then gives what the collector scanned in the collection before it
// (runtime/metrics' /gc/scan/*: heap, globals, stacks) beside the live
// heap, the bytes each cycle reads. A -heapprofiles or -roundprofiles
// prefix whose directory cannot be written, or whose longest profile's
// name is too long there, is refused before any round runs (a file whose
// name is as long as that profile's is made in its place and removed).
// A profile that cannot be made or written later (a full disk, its
// directory removed during the run) costs the run that profile, not its
// figures: the scenario's report and the summary are printed, with a
// line naming the profile's file and the error, and the command exits
// with status 1 at the end; so does a -cpuprofile or -trace file whose
// writes failed. A profile's file that the run made and could not write
// whole is removed (the error says so): a truncated profile left under its
// name would pass for one; so is a -roundscsv file whose writes failed
// (the run stops at that scenario, with status 1). A file or link that was
// at the path before the run is written through, as ever, and never
// removed. -ballast
// (with -only bare) runs the bare rounds beside a pointer-free array of
// that many bytes, as -bare matched's bare rounds run beside the heap the
// recorded rounds held, which a run of bare alone never sees: so that
// under callgrind with the collector on (scripts/callgrind-load.sh's
// BALLAST) a bare run is collected as often for its bytes as the recorded
// one, not at the runtime's 4 MiB floor.
//
// The bare rounds carry nothing of appstats (-bare matched, the default,
// and -bare clean): a service without appstats has no recorder, no store and no record in its
// heap, so neither may the process in a bare round. Before a bare round
// that follows a recorded one, the recorder is closed (handing its queue to
// the stores), the stores are closed — Badger's DB, with its goroutines,
// flushes and compactions, memstore and its 5,000 records — every
// reference to them dropped, and the heap collected and returned to the OS
// (debug.FreeOSMemory). Before a recorded round that follows a bare one
// they are opened again, Badger on the same directory (what it stored is
// read back; its in-memory ring of recent records starts empty), and a
// warm-up brings them back to the state of a service that has been
// running: load for -warmup and then until memstore holds its capacity or
// badgerstore's ring has wrapped (at most a minute more, and at most
// -requests requests). None of this is measured: closing, opening and
// warming up happen between rounds. The alternation stays as it was, so
// the machine's drift still falls on both configurations alike. The flight
// scenario, whose bare rounds record by design, and the otel- references,
// whose bare rounds keep an idle tracer provider, are built once.
//
// -bare matched (the default) then runs each bare round beside a ballast:
// a pointer-free array as large as the live heap the recorded
// configuration held, which the collector paces by but never marks. With
// -bare clean, the bare rounds hold almost nothing (~0.4 MB live), so the
// runtime collects after every ~4 MB allocated — in the fanout scenario
// 189 collections per 10,000 bare requests against 54 recorded — which
// slows bare and flatters the ratio (fanout recorded 1.036× bare). A
// service has a heap of its own; the ballast stands for it.
//
// -bare shared is the old arm, kept for comparison: the recorded
// configuration is built once per scenario and stays alive through the
// bare rounds, whose collector then marks memstore's records, and which
// share the cores with Badger's background work — which slows the bare
// rounds and so flatters the ratio. -slice needs it (a stretch switching
// configuration every slice cannot close and reopen the stores at each
// switch).
//
// Why in one process, rather than each configuration in a child process
// of its own: the load generator, the runtime's counters
// (runtime/metrics), the process's CPU time, -only under callgrind,
// -cpuprofile, -roundprofiles and -trace all stay as they were and
// measure both configurations alike; two children would each need their
// counters carried back, and one left idle would still run Badger's
// goroutines beside the other unless stopped. What a closed store leaves
// in one process is the runtime's own state (spans, the pacer's history),
// which the collection and FreeOSMemory bring back near a process that
// never recorded.
//
// Usage:
//
//	appstats-bench [-scenario all] [-duration 2s] [-rounds 4] [-concurrency 8] [-warmup 500ms] [-requests 1000000] [-bare matched|clean|shared] [-slice 0] [-cpuprofile file | -roundprofiles prefix] [-trace file] [-heapprofiles prefix] [-only bare|recorded] [-ballast bytes] [-probe 20ms] [-roundscsv file]
//
// Scenarios:
//
//	hello   a handler that writes "hello"; recorded into an in-memory store (memstore)
//	fanout  a handler that makes 10 sequential GETs to a loopback backend through
//	        httpstats.NewTransport (bare: a plain http.Transport); memstore
//	badger  the hello handler recorded into a Badger store (badgerstore) in a
//	        temporary directory, removed at exit
//	ui      as badger, with the dashboard mounted at /stats/, and its live
//	        stream (/stats/events) open by a client during each recorded round,
//	        which refreshes the dashboard's parts (stats, history, series) at
//	        most once a second on news, as the page's script does
//	flight  the hello handler recorded into memstore in both configurations, with
//	        the runtime's flight recorder (recording.WithFlightRecorder) in the
//	        recorded one only: the ratio is the flight recorder's own cost
//	flight-floor
//	        a reference, not a target: the hello handler with nothing of
//	        appstats, without and with a plain runtime/trace.FlightRecorder
//	        started with the flight scenario's settings ("traced"): Go's
//	        execution tracer's own cost, the floor under the flight scenario.
//	        With both, the summary splits the flight ratio into the tracer's
//	        and appstats' part (flight ÷ floor)
//	fanout-floor
//	        a reference, not a target: the fanout handler with nothing of
//	        appstats, its calls without and with a W3C traceparent header
//	        ("traceparent"): what net/http spends writing it and, in the
//	        backend, parsing it, which any tracer that propagates pays; the
//	        floor under the fanout scenario (fanout ÷ fanout-floor is what
//	        recording adds beyond it)
//	aa-hello
//	        a reference, not a target: the A/A arm. The hello handler with
//	        nothing of appstats in both configurations ("bare B" in the
//	        recorded one's place): its ratio's distance from 1 is the
//	        method's own noise in the run. With it, the summary states that
//	        noise and, for every scenario, its pairs' mean ratio by which
//	        configuration ran first
//	otel-hello, otel-fanout
//	        references, not targets: the hello and fanout scenarios with
//	        OpenTelemetry's otelhttp (NewHandler, and NewTransport for the
//	        calls; the SDK, every span sampled, a batch span processor, an
//	        exporter that discards) in appstats' place, so that the report
//	        shows otelhttp ÷ bare beside recorded ÷ bare from the same run
//
// With -slice (and -bare shared), each pair of rounds is one stretch of load of twice
// -duration whose configuration switches every slice (bare, recorded, bare,
// …, or recorded first in every other pair): a machine shared with other
// work changes its load over seconds, and so shifts whole rounds, not
// slices of a quarter second. Each configuration gets as much of the
// stretch: a switch made late (a loaded machine wakes the switcher late)
// is made up by the other configuration before the stretch ends, which
// may then last longer (at most a minute longer).
//
// Every address is 127.0.0.1; every loop is bounded by -duration and
// -requests; the program exits by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"time"
)

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	if err := runMain(opts); err != nil {
		fmt.Fprintln(os.Stderr, "appstats-bench:", err)
		os.Exit(1)
	}
}

func runMain(opts options) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	for _, w := range []struct {
		flag, path string
		start      func(io.Writer) error
		stop       func()
	}{
		{"-cpuprofile", opts.CPUProfile, pprof.StartCPUProfile, pprof.StopCPUProfile},
		{"-trace", opts.Trace, trace.Start, trace.Stop},
	} {
		if w.path == "" {
			continue
		}
		stopWriting, werr := startWriting(w.flag, w.path, w.start, w.stop)
		if werr != nil {
			return werr
		}
		defer func() { err = errors.Join(err, stopWriting()) }()
	}
	_, err = run(ctx, opts, os.Stdout)
	return err
}

// parseFlags reads the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("appstats-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := defaultOptions()
	var scen string
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of each measured round")
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "measured rounds per configuration (bare and recorded alternate)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "concurrent client connections")
	fs.IntVar(&o.Requests, "requests", o.Requests, "at most this many requests per round")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "length of the unmeasured warm-up round of each configuration (0: none)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run (both configurations) to this file")
	fs.DurationVar(&o.Slice, "slice", 0, "interleave each pair of rounds: one stretch of twice -duration whose configuration switches every SLICE (0: whole rounds)")
	fs.StringVar(&o.Trace, "trace", "", "write an execution trace of the whole run to this file (go tool trace; with -only, of one configuration)")
	fs.StringVar(&o.RoundProfiles, "roundprofiles", "", "write a CPU profile of each measured round to PREFIX-SCENARIO-CONFIG-N.prof (CONFIG bare or recorded; not with -cpuprofile)")
	fs.StringVar(&o.HeapProfiles, "heapprofiles", "", "write a heap profile after each scenario's last recorded round to PREFIX-SCENARIO.heap")
	fs.StringVar(&o.Only, "only", "", "run one configuration alone, bare or recorded (for callgrind; the ratios are then 0)")
	fs.Int64Var(&o.Ballast, "ballast", 0, "with -only bare: run the bare rounds beside a pointer-free array of this many bytes, at most 1 TiB (a -only recorded run's live heap less a bare run's: see -heapprofiles), so that the collector paces them as the recorded run's")
	fs.StringVar(&o.Bare, "bare", o.Bare, "the bare arm: clean (the bare rounds run with the recorder and stores closed, their memory released), matched (as clean, beside a pointer-free ballast the size of the heap the recorded configuration held, so that the collector paces both alike) or shared (beside them, as before; needed by -slice)")
	fs.DurationVar(&o.Probe, "probe", o.Probe, "run the speed probe's kernels once every PROBE through the run (1ms to 1s; 0: off; not with -only), and report how the CPU's speed moved between rounds")
	fs.StringVar(&o.RoundsCSV, "roundscsv", "", "write every measured round's figures (requests, CPU, the runtime's and the system's counters, the speed probe's) to this file as CSV")
	fs.StringVar(&scen, "scenario", "all", "comma-separated scenarios: "+strings.Join(scenarioNames, ", ")+", or all")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", fs.Args())
		fmt.Fprintln(stderr, err)
		return o, err
	}
	var err error
	if o.Scenarios, err = parseScenarios(scen); err == nil {
		err = o.validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		fs.Usage()
	}
	return o, err
}

// defaultOptions are the flags' defaults.
func defaultOptions() options {
	return options{
		Duration:    2 * time.Second,
		Rounds:      4,
		Concurrency: 8,
		Requests:    1_000_000,
		Warmup:      500 * time.Millisecond,
		Scenarios:   slices.Clone(scenarioNames),
		Bare:        bareMatched,
		Probe:       20 * time.Millisecond,
	}
}
