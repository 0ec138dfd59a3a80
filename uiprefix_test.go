package appstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats"
)

// TestUIPrefixForms: Config.UIPrefix given without its slashes
// ("admin/stats", as ui.WithPrefix takes it) serves the dashboard at
// /admin/stats/ and leaves its requests unrecorded, as "/admin/stats/"
// does, while the application's routes, those next to the prefix
// ("/admin/statsfoo") among them, are recorded.
func TestUIPrefixForms(t *testing.T) {
	for _, prefix := range []string{"/admin/stats/", "admin/stats", "/admin/stats", "admin/stats/"} {
		t.Run(prefix, func(t *testing.T) {
			as, err := appstats.Open(appstats.Config{InMemory: true, NoOTLP: true, UIPrefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			mux := http.NewServeMux()
			mux.Handle("/admin/stats/", as.UI())
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") })
			app := httptest.NewServer(as.Middleware(mux))
			defer app.Close()
			for _, path := range []string{"/admin/stats/", "/admin/stats/api/stats", "/hello", "/admin/statsfoo"} {
				resp, err := http.Get(app.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %s", path, resp.Status)
				}
			}
			if err := as.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := as.Recorder().Stats(); st.Written != 2 || st.Filtered != 2 {
				t.Errorf("recorded %d requests, filtered %d; want 2 and 2 (the dashboard's own requests are not recorded, the app's are)", st.Written, st.Filtered)
			}
		})
	}
}

// TestUIPrefixRoot: Config.UIPrefix "/", which would leave every request
// unrecorded (the dashboard's own are left out by the prefix), is refused
// by Open with an error that says why.
func TestUIPrefixRoot(t *testing.T) {
	for _, prefix := range []string{"/"} {
		as, err := appstats.Open(appstats.Config{InMemory: true, NoOTLP: true, UIPrefix: prefix})
		if err == nil {
			as.Close()
			t.Errorf("UIPrefix %q: Open succeeded", prefix)
		} else if !strings.Contains(err.Error(), "unrecorded") {
			t.Errorf("UIPrefix %q: %v, want it to say why", prefix, err)
		}
	}
}
