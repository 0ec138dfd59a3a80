// Package ui serves the appstats dashboard: an admin-only web UI, mounted at
// /stats/ by default, that shows what recorded requests spend their time on.
//
// # Pages
//
// The dashboard has a time-window selector, charts of requests, errors and
// latency percentiles over time and a latency histogram (drawn with
// go-echarts; the echarts script is embedded and served by the handler, no
// page loads anything from another host), the RPC Stats and Path Stats
// tables (expand a row for its breakdown by route or by RPC), the requests
// history with filters and paging, and the recorder's health with buttons to
// pause recording and to clear the store, beside the store's health when
// the store reports it ([store.HealthReporter]: a full disk, records
// dropped, damaged entries skipped, a damaged directory moved aside).
//
// The details page of a record shows its summary, a Gantt timeline of its
// calls (one row per call, coloured by service, errors and HTTP phases
// marked, zoomable), the calls with their request and response summaries and
// stacks, per-RPC statistics, warnings (repeated calls: N+1; calls left
// running), the redacted request headers, the trace ID (linked to a trace
// viewer with [WithTraceLink]) and a JSON download.
//
// With [WithRecorder], the dashboard also lists what is in the making —
// requests that have not ended, long-lived connections still open
// ([recording.Recorder.Active]) — and their pages show them so far.
//
// The JSON API (api/records, api/records/{id}, api/stats, api/series,
// api/health, api/active) is documented in API.md next to this package's
// source.
//
// # Live updates
//
// With [WithLive], open dashboards refresh their tables and charts without a
// reload when new records arrive: a [Live] is a recording sink that notifies
// dashboards over Server-Sent Events, with keep-alive pings and reconnection
// with backoff.
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
// gets 400. Every page and API answer is bounded in size, whatever was
// recorded. Pages are html/template; strings a
// request controls are escaped in HTML and never enter chart scripts.
// Responses carry a Content-Security-Policy that admits scripts from the
// handler itself or with a per-response nonce, and X-Content-Type-Options,
// X-Frame-Options and Referrer-Policy headers.
package ui
