package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestPanickingHooks serves requests whose route or user hook panics,
// after a handler that returned or one that panicked itself: each request
// is still recorded once, with the panic and the request's attributes
// (added before the hooks run), and none is left in flight; and each hook
// runs at most once a request (a hook's panic is not taken for the
// handler's, whose way would fill the record again).
func TestPanickingHooks(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	var mu sync.Mutex
	runs := map[string]int{} // "what path": the hook's runs
	hook := func(what string) func(r *http.Request) string {
		return func(r *http.Request) string {
			mu.Lock()
			runs[what+" "+r.URL.Path]++
			mu.Unlock()
			if strings.Contains(r.URL.Path, what) {
				panic(what + " hook failed")
			}
			return ""
		}
	}
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "handler") {
			panic("handler failed")
		}
		io.WriteString(w, "ok")
	}), httpstats.WithRouteFunc(hook("route")), httpstats.WithUser(hook("user")))
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // net/http logs the panics
	srv.Start()
	defer srv.Close()
	paths := []string{"/route", "/user", "/handler/route", "/handler/user", "/handler", "/fine"}
	for _, p := range paths {
		resp, err := srv.Client().Get(srv.URL + p)
		if err == nil {
			resp.Body.Close()
		}
	}
	if recs, _ := rec.Active(100, 0); len(recs) > 0 {
		for _, r := range recs {
			t.Errorf("%s still in flight", r.Path)
		}
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range sink.Records() {
		got[r.Path]++
		// The first panic is the record's: the handler's, else the hook's.
		want := ""
		switch {
		case strings.HasPrefix(r.Path, "/handler"):
			want = "handler failed"
		case r.Path != "/fine":
			want = r.Path[1:] + " hook failed"
		}
		if r.Panic != want {
			t.Errorf("%s: Panic %q, want %q", r.Path, r.Panic, want)
		}
		if r.Attr("url.scheme") != "http" || r.Attr("user_agent.original") == "" {
			t.Errorf("%s: attributes %v, want the request's", r.Path, r.Attrs)
		}
	}
	for _, p := range paths {
		if got[p] != 1 {
			t.Errorf("%s recorded %d times, want once (records: %v)", p, got[p], fmt.Sprint(got))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range runs {
		if n > 1 {
			t.Errorf("%s: the hook ran %d times, want once", k, n)
		}
	}
	if runs["route /route"] != 1 || runs["user /user"] != 1 {
		t.Errorf("hooks' runs %v: want the route hook once for /route, the user hook once for /user", runs)
	}
}
