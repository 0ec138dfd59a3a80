package httpstats_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

func TestEdgeOptionalInterfaces(t *testing.T) {
	rec, _ := newRecorder(t, recording.WithMaxStack(0))
	s := strings.Repeat("x", 512)
	var isCN, isSW bool
	var allocs float64
	h := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, isCN = w.(http.CloseNotifier)
		_, isSW = w.(io.StringWriter)
		allocs = testing.AllocsPerRun(100, func() { io.WriteString(w, s) })
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Logf("CloseNotifier kept=%v StringWriter kept=%v allocs per io.WriteString=%v", isCN, isSW, allocs)
}
