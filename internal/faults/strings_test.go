package faults_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestHugeCallStrings: a request whose handler records 10 calls with 10 MB
// strings (service, method, summaries, error, an attribute) is stored in
// Badger, cut to the caps with the note, and api/health counts it written.
//
// Reported: such a record made the store's writer allocate a 340 MB buffer
// before dropping it, and api/health still counted it as written.
func TestHugeCallStrings(t *testing.T) {
	noLeaks(t)
	as, err := appstats.Open(appstats.Config{Dir: t.TempDir(), NoOTLP: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	huge := strings.Repeat("z", 10<<20)
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			c := recording.StartCall(r.Context(), huge, huge)
			c.SetRequest(huge)
			c.SetResponse(huge)
			c.SetAttr("big", huge)
			c.End(errors.New(huge))
		}
		io.WriteString(w, "done")
	})
	mux.Handle("/stats/", as.UI())
	base := serveHandler(t, as.Middleware(mux))
	client := loopbackClient(t)
	resp, err := client.Get(base + "/huge")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := as.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := as.Store().List(ctx, store.Query{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 {
		t.Fatalf("the record was not stored: %+v", as.Recorder().Stats())
	}
	r, err := as.Store().Get(context.Background(), page.Records[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Calls) != 10 {
		t.Fatalf("%d calls stored, want 10", len(r.Calls))
	}
	for _, c := range r.Calls {
		for _, s := range []string{c.Service, c.Method, c.Request, c.Response, c.Error, c.Attr("big")} {
			if len(s) > 2048 || !strings.Contains(s, recording.TruncatedMarker+"10") {
				t.Fatalf("call string of %d bytes stored: %.60q…", len(s), s)
			}
		}
	}
	var health struct {
		Recorder struct {
			Written uint64 `json:"written"`
			Dropped uint64 `json:"dropped"`
		} `json:"recorder"`
	}
	// ForceFlush returned once the sink had, and the record was counted.
	getJSON(t, client, base+"/stats/api/health", &health)
	if health.Recorder.Written != 1 || health.Recorder.Dropped != 0 {
		t.Errorf("api/health: written %d, dropped %d; want the one record written", health.Recorder.Written, health.Recorder.Dropped)
	}
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}
}
