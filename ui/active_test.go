package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// A websocket connection open on the hub, and a request still running, are
// listed by api/active and the dashboard, and their pages show them so far.
func TestActiveConnections(t *testing.T) {
	st := memstore.New(100)
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	h := ui.NewHandler(st, ui.WithRecorder(rec))

	ctx, conn := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/ws", Instance: "hub"})
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})
	_, m := s.StartMessage(ctx, recording.Receive, "typing", 20)
	m.End(nil)
	s.Count(recording.Send, 7)
	sctx, slow := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/report", Instance: "app"})
	call := recording.StartCall(sctx, "sql", "SELECT <script>")

	type activeList struct {
		Active []struct {
			ID, Path, Route, Instance, Kind string
			RunningMS                       float64 `json:"running_ms"`
			CallCount                       int     `json:"call_count"`
			CallsRunning                    int     `json:"calls_running"`
			CallsOmitted                    int     `json:"calls_omitted"`
			Calls                           []struct {
				Service, Method string
				Running, Event  bool
			}
			Attrs []struct{ Key, Value string }
		}
		Unlisted int
	}
	w := do(h, "GET", "/stats/api/active", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("api/active: %d %s", w.Code, w.Body.String())
	}
	got := decode[activeList](t, w)
	if got.Unlisted != 0 || len(got.Active) != 2 {
		t.Fatalf("api/active = %+v, want 2 records", got)
	}
	ws, report := got.Active[0], got.Active[1] // longest-running first
	if report.Path != "/report" || report.CallCount != 1 || report.CallsRunning != 1 || report.Instance != "app" ||
		len(report.Calls) != 1 || !report.Calls[0].Running || report.Calls[0].Method != "SELECT <script>" {
		t.Errorf("running request %+v", report)
	}
	if ws.Path != "/ws" || ws.Route != "GET /ws" || ws.Kind != "http" || ws.Instance != "hub" || ws.CallCount != 0 ||
		len(ws.Calls) != 1 || !ws.Calls[0].Event || ws.Calls[0].Method != "connect" {
		t.Errorf("open connection %+v", ws)
	}
	attrs := map[string]string{}
	for _, a := range ws.Attrs {
		attrs[a.Key] = a.Value
	}
	if attrs["appstats.stream.messages_received"] != "1" || attrs["appstats.stream.messages_sent"] != "1" {
		t.Errorf("connection attrs %v", attrs)
	}
	if w := do(h, "GET", "/stats/api/active?limit=1", nil); len(decode[activeList](t, w).Active) != 1 || decode[activeList](t, w).Unlisted != 1 {
		t.Errorf("limit=1: %s", w.Body.String())
	}
	if w := do(h, "GET", "/stats/api/active?limit=1&calls=1", nil); decode[activeList](t, w).Active[0].CallsOmitted != 0 {
		t.Errorf("calls=1 of a connection with one call: %s", w.Body.String())
	}
	for _, q := range []string{"limit=x", "limit=0", "calls=-1"} {
		if w := do(h, "GET", "/stats/api/active?"+q, nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", q, w.Code)
		}
	}
	if w := do(h, "POST", "/stats/api/active", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST api/active: %d", w.Code)
	}

	// Its JSON and its page, while it runs.
	w = do(h, "GET", "/stats/api/records/"+conn.Record().ID.String(), nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"active":true`) || !strings.Contains(w.Body.String(), `"method":"connect"`) {
		t.Errorf("api/records of the open connection: %d %.400s", w.Code, w.Body.String())
	}
	w = do(h, "GET", "/stats/records/"+slow.Record().ID.String(), nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `class="badge running"`) || !strings.Contains(w.Body.String(), "has not ended") {
		t.Errorf("page of the running request: %d", w.Code)
	}
	if strings.Contains(w.Body.String(), "SELECT <script>") {
		t.Error("a call's name is rendered unescaped")
	}

	// The dashboard lists both.
	w = do(h, "GET", "/stats/", nil)
	body := w.Body.String()
	for _, want := range []string{"Running now", `href="records/` + conn.Record().ID.String() + `"`, "1 in · 1 out", ">hub<", "/report"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if w := do(h, "GET", "/stats/part/history", nil); !strings.Contains(w.Body.String(), "Running now") {
		t.Error("the live history part lacks the running table")
	}

	// Once ended, they are no longer active.
	call.End(nil)
	slow.Finish()
	s.Close("1000")
	conn.Finish()
	if w := do(h, "GET", "/stats/api/active", nil); len(decode[activeList](t, w).Active) != 0 {
		t.Errorf("after the end: %s", w.Body.String())
	}
	if w := do(h, "GET", "/stats/", nil); strings.Contains(w.Body.String(), "Running now") {
		t.Error("the dashboard still lists records as running")
	}
	// Without a recorder there is no list to give.
	if w := do(ui.NewHandler(st), "GET", "/stats/api/active", nil); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "WithRecorder") {
		t.Errorf("api/active without a recorder: %d %s", w.Code, w.Body.String())
	}
}
