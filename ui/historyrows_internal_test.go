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
