package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// Mount the dashboard at /stats/ behind HTTP Basic authentication, with live
// updates and the recorder's health.
func ExampleNewHandler() {
	st := memstore.New(0)
	defer st.Close()
	live := ui.NewLive()
	defer live.Close()
	// The Live follows the store in one sequence, so that a dashboard told
	// about new records finds them there.
	rec := recording.New(recording.WithSinks(recording.Sequence(st, live)))
	defer rec.Close(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/stats/", ui.NewHandler(st,
		ui.WithAuth(ui.BasicAuth("admin", "correct horse battery staple")),
		ui.WithRecorder(rec),
		ui.WithLive(live),
		ui.WithTraceLink("http://localhost:16686/trace/{trace_id}"),
	))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(user, pass string) {
		req, _ := http.NewRequest("GET", srv.URL+"/stats/api/records?limit=10", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.Status, resp.Header.Get("WWW-Authenticate"), string(body))
	}
	get("", "")
	get("admin", "correct horse battery staple")
	// Output:
	// 401 Unauthorized Basic realm="appstats", charset="UTF-8" {"error":"authorization required: the dashboard's authorizer (Config.Auth, ui.WithAuth) refused this request, which carries no Authorization header"}
	//
	// 200 OK  {"records":[],"next":""}
}
