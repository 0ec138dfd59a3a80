package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// noTraceStore hides a store's execution traces: a store.Store and no
// more.
type noTraceStore struct{ store.Store }

func TestExecTrace(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	now := time.Now()
	traced := makeRecord(now.Add(-2*time.Second), 1, "/slow", 200, 3)
	data := append([]byte("go 1.26 trace\x00\x00\x00"), bytes.Repeat([]byte{1, 2, 3}, 5000)...)
	taken := now.Add(-time.Second)
	traced.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: taken,
		Reason: "1.2s, over the route's p99 of 412ms"}
	plain := makeRecord(now.Add(-time.Second), 2, "/fast", 200, 3)
	if err := st.Write(context.Background(), []*recording.Record{traced, plain}); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(st)
	get := func(target string) *httptest.ResponseRecorder { return do(h, "GET", target, nil) }
	id := traced.ID.String()
	file := "appstats-" + id + ".trace"

	// The details page offers the trace and says how to open it.
	w := get("/stats/records/" + id)
	body := w.Body.String()
	for _, want := range []string{`id="exectrace"`, `href="../api/records/` + id + `/trace"`, `download="` + file + `"`,
		"go tool trace " + file, "over the route&#39;s p99 of 412ms", "14.7 KB"} {
		if !strings.Contains(body, want) {
			t.Errorf("details page: no %q", want)
		}
	}
	if w := get("/stats/records/" + plain.ID.String()); strings.Contains(w.Body.String(), `id="exectrace"`) {
		t.Error("the details page of a record without a trace offers one")
	}

	// The API describes it.
	var rec struct {
		ExecTrace *struct {
			Size   int64  `json:"size"`
			Taken  string `json:"taken"`
			Reason string `json:"reason"`
			URL    string `json:"url"`
		} `json:"exec_trace"`
	}
	if err := json.Unmarshal(get("/stats/api/records/"+id).Body.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if et := rec.ExecTrace; et == nil || et.Size != int64(len(data)) || et.URL != id+"/trace" ||
		et.Reason != traced.ExecTrace.Reason || et.Taken != taken.UTC().Format(time.RFC3339Nano) {
		t.Errorf("API exec_trace = %+v", et)
	}
	if b := get("/stats/api/records/" + plain.ID.String()).Body.String(); strings.Contains(b, "exec_trace") {
		t.Error("the API gives exec_trace for a record without a trace")
	}

	// The download is the trace, whole.
	w = get("/stats/api/records/" + id + "/trace")
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) {
		t.Fatalf("trace download: %d, %d bytes; want 200, %d", w.Code, w.Body.Len(), len(data))
	}
	hd := w.Result().Header
	if hd.Get("Content-Type") != "application/octet-stream" ||
		hd.Get("Content-Disposition") != `attachment; filename="`+file+`"` || hd.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("trace download headers: %v", hd)
	}

	for _, tc := range []struct {
		target string
		code   int
	}{
		{"/stats/api/records/" + plain.ID.String() + "/trace", 404},
		{"/stats/api/records/" + recID(time.Unix(1, 0), 9).String() + "/trace", 404},
		{"/stats/api/records/not-an-id/trace", 400},
		{"/stats/api/records/" + id + "/trace/x", 404},
	} {
		if w := get(tc.target); w.Code != tc.code || !strings.Contains(w.Header().Get("Content-Type"), "json") {
			t.Errorf("GET %s = %d %s, want %d JSON", tc.target, w.Code, w.Header().Get("Content-Type"), tc.code)
		}
	}
	checkSecurityHeaders(t, w)
	if w := do(h, "POST", "/stats/api/records/"+id+"/trace", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST trace = %d, want 405", w.Code)
	}

	// A store that keeps no traces answers 404.
	w = do(ui.NewHandler(noTraceStore{st}), "GET", "/stats/api/records/"+id+"/trace", nil)
	if b, _ := io.ReadAll(w.Body); w.Code != 404 || !strings.Contains(string(b), "keeps no execution traces") {
		t.Errorf("store without traces: %d %s", w.Code, b)
	}
}
