// Package ui serves the appstats dashboard: an admin-only web UI, mounted at
// /stats/ by default, that shows what recorded requests spend their time on.
//
// # Pages
//
// The dashboard has a time-window selector (or a custom range), charts of
// requests, errors and latency percentiles over time (a log scale option,
// the unfinished last bucket marked) and a latency histogram, drawn with
// go-echarts (the echarts script is embedded and served by the handler, no
// page loads anything from another host); clicking a point or a bar lists
// its requests. Then the RPC Stats and Path Stats tables (expand a row for
// its breakdown by route or by RPC), the requests history of the window
// with filters (among them the requests that made a call, linked from
// its RPC Stats row), search (path text, record or trace ID), sort by
// duration and paging, and the recorder's health with buttons to pause
// recording and to clear the store, beside the store's health when the
// store reports it ([store.HealthReporter]: a full disk, records dropped,
// damaged entries skipped, a damaged directory moved aside).
//
// The details page of a record shows its summary, a Gantt timeline of its
// calls as a tree (calls made inside another drawn under it, folding; one
// numbered row per call, coloured by service, errors, HTTP phases and the
// critical path marked, zoomable, long records scrolled), the same tree in
// the call list with request and response summaries, stacks and self
// times, per-RPC statistics that count nested time once, warnings
// (repeated calls: N+1, marked in the list; calls left running), the
// redacted request headers, the trace ID (linked to a trace viewer with
// [WithTraceLink]) and the other records of its trace in the store, a form
// to compare it with another request of its route (left out when the store
// cannot list the route's newest requests within half a second, as for a
// route rare among very many records), and a JSON download. A record of
// more calls than the recorder's default cap of 1,000 (a larger
// recording.WithMaxCalls) shows them a page at a time, in the timeline and
// the list alike: 1,000 at most, fewer where their texts are long, within
// about 3 MB; the pages are links (?page=P), and ?call=N (or a link to
// #call-N) goes to the page of call number N and opens it.
//
// The trace view draws the records of one trace on one time axis, each
// under the call that caused it, its rows a page at a time (1,000 at most,
// within about 2 MB; ?page=P); the comparison matches two requests' calls
// by name and order, its call-by-call rows 1,000 a page (?page=P); the
// in-flight page lists the requests running now with their calls so far
// (with [WithRecorder]). The record's JSON (api/records/{id}) of more than
// 1,000 calls comes a page of calls at a time (?offset=&limit=).
//
// With [WithRecorder], the dashboard also lists what is in the making —
// requests that have not ended, long-lived connections still open
// ([recording.Recorder.Active]) — and their pages show them so far.
//
// When calls have costs (see recording.WithCostModel), the RPC and path
// stats gain Cost and Cost % columns and each details page the request's
// total, each call's cost and a Cost column in its per-RPC statistics, in
// the unit of [WithCostUnit] or of the recorder. A slow request's
// execution trace (recording.WithFlightRecorder) is offered on its details
// page for download and for go tool trace, when the store keeps traces
// (store.ExecTraceStore).
//
// The JSON API (api/records, api/records/{id}, api/records/{id}/trace,
// api/stats, api/series, api/traces/{trace}, api/compare, api/active,
// api/health) is documented in API.md next to this package's source.
//
// # Source viewer
//
// With [WithSourceRoots], each stack frame of a file under one of the named
// directories links to a page showing the lines around the frame's line,
// highlighted, as App Engine's Appstats did. It is off by default. It serves
// only .go files under the roots once resolved after symlinks; anything else
// — "..", encoded or over-long paths, NUL bytes, a symlink out of a root —
// is answered 404. The standard library ([SourceGOROOT]) and the module
// cache ([SourceModCache]) are served only when named.
//
// # Live updates
//
// With [WithLive], open dashboards refresh their tables and charts without a
// reload when new records arrive: a [Live] is a recording sink that notifies
// dashboards over Server-Sent Events, with keep-alive pings and reconnection
// with backoff. It serves at most [DefaultMaxStreams] streams at once
// ([WithLiveMaxStreams]); more are answered 503, and retried. A refresh
// keeps the user's place: the focused control, and what was typed or chosen
// in the history's filters and not yet submitted.
//
// # Security
//
// Every request must pass the authorizer: [LocalOnly] by default (loopback
// clients, asking for localhost or a loopback IP, or a name of
// [WithLocalHosts], without proxy headers), or any function given to
// [WithAuth], such as [BasicAuth]. A reverse proxy on the same host that
// adds no proxy header cannot be told from a local client: behind one, use
// [WithAuth]. State-changing requests are POST only and protected by
// [net/http.CrossOriginProtection]. A path that would leave the prefix once
// cleaned is answered 404, never redirected; a query parameter given twice
// gets 400. Every list, stats and trace answer is bounded in size, whatever
// was recorded; a record's details page is bounded by its pages of calls
// (see above), while its JSON and a comparison grow with the records'
// calls, which the recorder caps (recording.WithMaxCalls: at the default
// 1,000 calls, a details page of about 0.7 MB). The dashboard's charts
// take the keyboard's focus: the arrow keys choose a point, which a live
// region reads out, and Enter opens its requests, as a click does. Pages are
// html/template; strings a request controls are escaped in HTML and never
// enter chart scripts.
// Responses carry a Content-Security-Policy that admits scripts and styles
// from the handler itself or with a per-response nonce, and no inline style
// attribute (no 'unsafe-inline': bars and indents are SVG attributes and
// classes, and the charts' tooltips are built as elements, not as echarts'
// markup with style attributes), and X-Content-Type-Options,
// X-Frame-Options and Referrer-Policy headers; every answer but the static
// files' says Cache-Control: private, no-store, since what the dashboard
// serves is admin-only and no cache may keep it.
package ui
