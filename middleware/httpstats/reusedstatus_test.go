package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportReusedWithStatus checks that a call has its connection's
// reuse as soon as it has its status, at the response: a call whose
// record ended before its body was read has both (the body's end came too
// late to set anything), and a call read to its end has each once, the
// status before the reuse.
func TestTransportReusedWithStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: httpstats.NewTransport(base)}
	for _, readFirst := range []bool{false, true} {
		rec, sink := newRecorder(t, recording.WithMaxStack(0))
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if readFirst {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		ar.Finish()
		if !readFirst {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		recs := flush(t, rec, sink)
		if len(recs) != 1 || len(recs[0].Calls) != 1 {
			t.Fatalf("read first %v: got %d records, want 1 of 1 call", readFirst, len(recs))
		}
		status, reused := -1, -1
		for i, a := range recs[0].Calls[0].Attrs {
			switch a.Key {
			case convention.KeyHTTPResponseStatusCode:
				if status >= 0 {
					t.Errorf("read first %v: the status is set twice: %v", readFirst, recs[0].Calls[0].Attrs)
				}
				status = i
			case convention.KeyHTTPConnectionReused:
				if reused >= 0 {
					t.Errorf("read first %v: the reuse is set twice: %v", readFirst, recs[0].Calls[0].Attrs)
				}
				reused = i
			}
		}
		if status < 0 || reused < 0 || reused < status {
			t.Errorf("read first %v: status at %d, reuse at %d in %v; want both, the status first", readFirst, status, reused, recs[0].Calls[0].Attrs)
		}
	}
}
