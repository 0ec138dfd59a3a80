package otelexport_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestHTTPStatusDescription: the HTTP conventions' status rules, through
// the real middleware and transport. A CLIENT span is Error for a 4xx or
// 5xx response and a SERVER span only for a 5xx, and "Don't set the span
// status description if the reason can be inferred from
// http.response.status_code" (as otelhttp sets none): the description is
// empty, error.type the code. A call that failed without a response keeps
// its error as description. On main a 5xx call's span had the transport's
// "503 Service Unavailable" as description.
func TestHTTPStatusDescription(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
	}))
	defer down.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close() // nothing listens there any more: the call fails without a response

	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	app := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, u := range []string{down.URL + "/?code=503", down.URL + "/?code=404", refused} {
			req, _ := http.NewRequestWithContext(r.Context(), "GET", u, nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
	})))
	defer app.Close()
	for _, code := range []string{"500", "404"} {
		resp, err := http.Get(app.URL + "/page?code=" + code)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	type want struct {
		code    codes.Code
		errType string
		desc    bool // a description, the error's
	}
	for _, s := range exportSpans(t, sink.Records()) {
		a := spanAttrs(s.Attributes)
		var w want
		switch status := a["http.response.status_code"]; {
		case s.SpanKind == trace.SpanKindServer && status == "500":
			w = want{codes.Error, "500", false}
		case s.SpanKind == trace.SpanKindServer && status == "404":
			w = want{codes.Unset, "", false}
		case s.SpanKind == trace.SpanKindClient && status == "503":
			w = want{codes.Error, "503", false}
		case s.SpanKind == trace.SpanKindClient && status == "404":
			w = want{codes.Error, "404", false}
		case s.SpanKind == trace.SpanKindClient && status == "":
			w = want{codes.Error, a["error.type"], true} // the error's type, as the transport recorded it
		default:
			t.Errorf("%s span %q with status code %q", s.SpanKind, s.Name, status)
			continue
		}
		if s.Status.Code != w.code || a["error.type"] != w.errType || (s.Status.Description != "") != w.desc {
			t.Errorf("%s span %q, status code %q: status %v %q, error.type %q; want %v, error.type %q, description %v",
				s.SpanKind, s.Name, a["http.response.status_code"], s.Status.Code, s.Status.Description, a["error.type"], w.code, w.errType, w.desc)
		}
		if w.desc && (w.errType == "" || w.errType == "_OTHER") {
			t.Errorf("call without a response: error.type %q, want the error's type", w.errType)
		}
	}
}
