package ui

import (
	"bytes"
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// oldHistoryRows is the history table's rows as the template wrote them
// while each row was the record's summary itself (every value formatted
// by the template's functions): the rows' bytes must not change.
const oldHistoryRows = `
  {{range .Rows}}
  <tr data-id="{{.ID}}"{{if .Failed}} class="failed"{{end}}>
    <td class="time"><time datetime="{{iso .Start}}">{{stamp .Start}}</time></td>
    <td class="method">{{.Method}}</td>
    <td class="path"><a href="records/{{.ID}}">{{.Path}}{{if .Query}}<span class="q">?{{.Query}}</span>{{end}}</a>{{if and .Route (ne .Route .Path)}} <span class="route">{{.Route}}</span>{{end}}{{if $.Instances}} <span class="instance">{{.Instance}}</span>{{end}}</td>
    <td class="num">{{if eq .Kind.String "message"}}<span class="muted" title="a message handled on a long-lived connection">{{if .Error}}✕{{else}}–{{end}}</span>{{else}}{{with status .Kind .Status}}<span class="status {{.Class}}" title="{{.Title}}">{{.Text}}</span>{{end}}{{end}}</td>
    <td class="num">{{dur .Duration}}</td>
    <td class="num">{{.CallCount}}{{if .ErrorCalls}} <span class="bad" title="calls that failed">({{.ErrorCalls}}✕)</span>{{end}}</td>
    <td class="num muted">{{dur .Overhead}}</td>
    <td class="flags">{{if .Warnings}}<span class="badge warn" title="warnings: repeated calls or calls left running">{{.Warnings}} ⚠</span>{{end}}{{if .Panic}}<span class="badge bad">panic</span>{{end}}</td>
  </tr>
  {{end}}
  `

// oldRunningRows is the "Running now" table's rows as the template wrote
// them from the records' summaries.
const oldRunningRows = `
  {{range .Rows}}
  <tr data-id="{{.ID}}">
    <td class="time"><time datetime="{{iso .Start}}">{{stamp .Start}}</time></td>
    <td>{{.Kind}}</td>
    <td class="method">{{.Method}}</td>
    <td class="path"><a href="records/{{.ID}}">{{.Path}}</a>{{if and .Route (ne .Route .Path)}} <span class="route">{{.Route}}</span>{{end}}</td>
    <td>{{.Instance}}</td>
    <td class="num">{{dur .Duration}}</td>
    <td class="num">{{.CallCount}}</td>
    <td class="num">{{.Messages}}</td>
  </tr>
  {{end}}
  `

// randomSummaries returns n summaries of every kind, with statuses,
// errors, panics, warnings and the characters HTML escapes (and invalid
// UTF-8) in the strings a request controls.
func randomSummaries(rng *rand.Rand, n int) []recording.Summary {
	strs := []string{"", "/a", "/users/{id}", `<script>alert("x")</script>`, "a&b'c\"d+e", "\x00nul", "é ✕ µ", "\xff\xfe bad", "q=1&r=<2>", "   ", "+"}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	kinds := []recording.Kind{recording.KindHTTP, recording.KindGRPC, recording.KindBackground, recording.KindMessage, 9}
	durs := []time.Duration{0, -time.Second, 7 * time.Microsecond, 1500 * time.Microsecond, 250 * time.Millisecond, 3 * time.Second, 2 * time.Hour}
	out := make([]recording.Summary, n)
	for i := range out {
		s := &out[i]
		s.ID[0], s.ID[15] = byte(rng.Uint32()), byte(i)
		s.Kind = kinds[rng.IntN(len(kinds))]
		s.Start = time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("x", 3600))
		s.Duration, s.Overhead = durs[rng.IntN(len(durs))], durs[rng.IntN(len(durs))]
		s.Method, s.Path, s.Query, s.Instance = pick(), pick(), pick(), pick()
		s.Route = pick()
		if rng.IntN(3) == 0 {
			s.Route = s.Path
		}
		s.Status = []int{0, 200, 301, 404, 500, 503, 2, 14}[rng.IntN(8)]
		if rng.IntN(4) == 0 {
			s.Error = pick()
		}
		if rng.IntN(6) == 0 {
			s.Panic = "boom"
		}
		s.CallCount, s.ErrorCalls, s.Warnings = rng.IntN(40), rng.IntN(3), rng.IntN(3)
	}
	return out
}

// TestHistoryRowsBytes: the dashboard's history rows, and its "Running
// now" rows, are the bytes the template wrote from the summaries
// themselves, for records of every kind and status, with and without the
// instance column, with and without messages.
func TestHistoryRowsBytes(t *testing.T) {
	old := template.Must(template.New("").Funcs(funcs).Parse(oldHistoryRows))
	oldRun := template.Must(template.New("").Funcs(funcs).Parse(oldRunningRows))
	pages := mustParseTemplates()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 40 {
		sums := randomSummaries(rng, 30)
		st := &store.Stats{}
		if round%2 == 1 {
			st.Instances = []store.InstanceStats{{Instance: "a"}, {Instance: "b"}}
		}
		hs := historySectionOf(store.Page{Records: sums}, listParams{}, st, "1h")
		var running []recording.Record
		for i, s := range sums[:round%7] {
			rec := recording.Record{ID: s.ID, Kind: s.Kind, Start: s.Start, Duration: s.Duration, Method: s.Method,
				Path: s.Path, Route: s.Route, Instance: s.Instance, Calls: make([]recording.Call, s.CallCount)}
			if i%2 == 1 {
				rec.Attrs = []recording.Attr{{Key: convention.KeyStreamMessagesReceived, Value: s.Query}, {Key: convention.KeyStreamMessagesSent, Value: "<7>"}}
			}
			running = append(running, rec)
		}
		hs.Running = runningSectionOf(running, round%3)
		var got bytes.Buffer
		if err := pages.dashboard.ExecuteTemplate(&got, "history", &hs); err != nil {
			t.Fatal(err)
		}
		type oldRow struct {
			recording.Summary
			Failed bool
		}
		in := struct {
			Rows      []oldRow
			Instances []string
		}{Instances: hs.Instances}
		for _, s := range sums {
			in.Rows = append(in.Rows, oldRow{s, s.HasError()})
		}
		var want bytes.Buffer
		if err := old.Execute(&want, in); err != nil {
			t.Fatal(err)
		}
		compareRows(t, round, got.String(), `<table class="grid history-table">`, want.String())
		if len(running) == 0 {
			if strings.Contains(got.String(), "running-table") {
				t.Fatalf("round %d: a running table with no record running", round)
			}
			continue
		}
		type oldRunning struct {
			recording.Summary
			Messages string
		}
		var in2 struct{ Rows []oldRunning }
		for i := range running {
			in2.Rows = append(in2.Rows, oldRunning{running[i].Summary(), messagesOf(&running[i])})
		}
		want.Reset()
		if err := oldRun.Execute(&want, in2); err != nil {
			t.Fatal(err)
		}
		compareRows(t, round, got.String(), `<table class="grid running-table">`, want.String())
	}
}

// compareRows compares the body of the table that starts with head in
// section with want.
func compareRows(t *testing.T, round int, section, head, want string) {
	t.Helper()
	i := strings.Index(section, head)
	if i < 0 {
		t.Fatalf("round %d: no %s in\n%s", round, head, section)
	}
	body := section[i:]
	a, b := strings.Index(body, "<tbody>")+len("<tbody>"), strings.Index(body, "</tbody>")
	if rows := body[a:b]; rows != want {
		i := 0
		for i < min(len(rows), len(want)) && rows[i] == want[i] {
			i++
		}
		t.Fatalf("round %d: %s: rows differ at byte %d\n got: %q\nwant: %q", round, head, i, rows[max(i-80, 0):min(i+80, len(rows))], want[max(i-80, 0):min(i+80, len(want))])
	}
}

// templateHistoryRows is the history table's rows as the template wrote
// them from historyRow's fields before historyRowsHTML wrote them: its
// bytes, escaping included, are what historyRowsHTML must write.
const templateHistoryRows = `{{range .Rows}}
  <tr data-id="{{.ID}}"{{if .Failed}} class="failed"{{end}}>
    <td class="time"><time datetime="{{.ISO}}">{{.Stamp}}</time></td>
    <td class="method">{{.Method}}</td>
    <td class="path"><a href="records/{{.ID}}">{{.Path}}{{if .Query}}<span class="q">?{{.Query}}</span>{{end}}</a>{{with .Route}} <span class="route">{{.}}</span>{{end}}{{if $.Instances}} <span class="instance">{{.Instance}}</span>{{end}}</td>
    <td class="num">{{if .Message}}<span class="muted" title="a message handled on a long-lived connection">{{if .Error}}✕{{else}}–{{end}}</span>{{else}}{{with .Status}}<span class="status {{.Class}}" title="{{.Title}}">{{.Text}}</span>{{end}}{{end}}</td>
    <td class="num">{{.Duration}}</td>
    <td class="num">{{.CallCount}}{{if .ErrorCalls}} <span class="bad" title="calls that failed">({{.ErrorCalls}}✕)</span>{{end}}</td>
    <td class="num muted">{{.Overhead}}</td>
    <td class="flags">{{if .Warnings}}<span class="badge warn" title="warnings: repeated calls or calls left running">{{.Warnings}} ⚠</span>{{end}}{{if .Panic}}<span class="badge bad">panic</span>{{end}}</td>
  </tr>
  {{end}}`

// hostile are values that html/template escapes, or that a careless
// escaper would let through: markup, quotes, entities, NUL, invalid and
// truncated UTF-8, the characters a URL keeps or encodes, percent escapes
// valid and not, and javascript: URLs.
var hostile = []string{
	"", "0123456789abcdef0123456789abcdef", "/users/{id}", `<script>alert("x")</script>`, `"><img src=x onerror=alert(1)>`,
	"a&b'c\"d+e", "&amp;&#34;", "\x00nul\x00", "é ✕ µ ⚠", "\xff\xfe bad", "\xe2\x28\xa1", "\xed\xa0\x80", "q=1&r=<2>",
	"   \t\n\r\f\v", "+", "javascript:alert(1)", "JaVaScRiPt:alert(document.cookie)", " javascript:x", "data:text/html,<b>",
	"%41%4a%zz%", "%", "%4", "a%2", "!#$&*,/:;=?@[]-._~", "`{|}\\^", "\x7f\x01\x1f", "\uFFFD\uFDD0\uFFFF", "records/../../x",
}

// randomHistoryRows returns n rows with hostile values in every string
// field, the status's included, and every flag and count set or not.
func randomHistoryRows(rng *rand.Rand, n int) []historyRow {
	pick := func() string { return hostile[rng.IntN(len(hostile))] }
	counts := []int{0, 1, 7, -3, 1234567}
	count := func() int { return counts[rng.IntN(len(counts))] }
	rows := make([]historyRow, n)
	for i := range rows {
		rows[i] = historyRow{
			ID: pick(), ISO: pick(), Stamp: pick(), Method: pick(), Path: pick(), Query: pick(), Route: pick(),
			Instance: pick(), Message: rng.IntN(4) == 0, Error: rng.IntN(2) == 0,
			Status:   statusView{Text: pick(), Class: pick(), Title: pick()},
			Duration: pick(), Overhead: pick(), CallCount: count(), ErrorCalls: count(), Warnings: count(),
			Panic: rng.IntN(3) == 0, Failed: rng.IntN(2) == 0,
		}
	}
	return rows
}

// TestHistoryRowsHTMLBytes: historyRowsHTML writes the bytes the
// template's loop over the rows wrote, for rows with hostile values in
// every field (markup, quotes, &, NUL, invalid UTF-8, javascript: in the
// ID the link's URL holds), with and without the instance column, and
// for no rows.
func TestHistoryRowsHTMLBytes(t *testing.T) {
	tmpl := template.Must(template.New("").Parse(templateHistoryRows))
	check := func(t *testing.T, rows []historyRow, instances bool) {
		t.Helper()
		in := struct {
			Rows      []historyRow
			Instances []string
		}{Rows: rows}
		if instances {
			in.Instances = []string{"a"}
		}
		var want bytes.Buffer
		if err := tmpl.Execute(&want, in); err != nil {
			t.Fatal(err)
		}
		if got := string(historyRowsHTML(rows, instances)); got != want.String() {
			i := 0
			for i < min(len(got), len(want.String())) && got[i] == want.String()[i] {
				i++
			}
			w := want.String()
			t.Fatalf("rows differ at byte %d\n got: %q\nwant: %q", i, got[max(i-80, 0):min(i+80, len(got))], w[max(i-80, 0):min(i+80, len(w))])
		}
	}
	check(t, nil, false)
	// Each hostile value in each string field, alone.
	for _, v := range hostile {
		for f := range 11 {
			r := historyRow{ID: "00", Status: statusView{Text: "200", Class: "st2", Title: "HTTP status 200"}}
			*[]*string{&r.ID, &r.ISO, &r.Stamp, &r.Method, &r.Path, &r.Query, &r.Route, &r.Instance,
				&r.Status.Text, &r.Status.Class, &r.Status.Title}[f] = v
			check(t, []historyRow{r}, f%2 == 0)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		check(t, randomHistoryRows(rng, 1+rng.IntN(8)), round%2 == 0)
	}
}

// FuzzHistoryRowsHTML: for any string in the fields, historyRowsHTML
// writes what the template wrote.
func FuzzHistoryRowsHTML(f *testing.F) {
	for _, v := range hostile {
		f.Add(v, v)
	}
	tmpl := template.Must(template.New("").Parse(templateHistoryRows))
	f.Fuzz(func(t *testing.T, a, b string) {
		rows := []historyRow{
			{ID: a, ISO: b, Stamp: a, Method: b, Path: a, Query: b, Route: a, Instance: b, Duration: a, Overhead: b,
				Status: statusView{Text: a, Class: b, Title: a}, Failed: true, ErrorCalls: 1, Warnings: 2, Panic: true},
			{ID: b, ISO: a, Path: b, Route: b, Instance: a, Message: true, Error: len(a) > 3},
		}
		in := struct {
			Rows      []historyRow
			Instances []string
		}{rows, []string{"x"}}
		var want bytes.Buffer
		if err := tmpl.Execute(&want, in); err != nil {
			t.Fatal(err)
		}
		if got := string(historyRowsHTML(rows, true)); got != want.String() {
			t.Fatalf("rows differ\n got: %q\nwant: %q", got, want.String())
		}
	})
}
