package recording_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// recordOne records one request with a call made by f, through a recorder
// with the given options, and returns the record its sink got.
func recordOne(t *testing.T, path string, f func(ar *recording.ActiveRecord), opts ...recording.Option) *recording.Record {
	t.Helper()
	sink := recordingtest.NewSink()
	rec := recording.New(append([]recording.Option{recording.WithSinks(sink), recording.WithBatch(1, time.Millisecond)}, opts...)...)
	defer rec.Close(context.Background())
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
	f(ar)
	ar.Finish()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs := sink.Wait(ctx, 1)
	if len(recs) != 1 {
		t.Fatalf("got %d records", len(recs))
	}
	return recs[0]
}

// TestScrubRecord checks that the recorder's writer redacts what wrappers
// left: errors with quoted literals, secrets in summaries, paths, headers
// and attributes, while the rest stays readable.
func TestScrubRecord(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	r := recordOne(t, "/reset/"+jwt, func(ar *recording.ActiveRecord) {
		ar.Record().Headers = map[string][]string{
			"X-Original-Url": {"/reset?token=HDRSECRET&step=2"},
			"X-Pass":         {"HDRPASS"},
			"User-Agent":     {"curl/8.0"},
		}
		ar.Record().Error = `user 'ERRUSER' unknown`
		c := ar.StartCall("sql", "SELECT users")
		c.SetRequest("SELECT * FROM users WHERE id = ?")
		c.SetAttrs(recording.Attr{Key: "db.query.text", Value: "SELECT * FROM users WHERE id = ?"},
			recording.Attr{Key: "db.query.parameter.pin", Value: "1234"},
			recording.Attr{Key: "db.query.parameter.0", Value: `"4111111111111111"`},
			recording.Attr{Key: "db.query.parameter.1", Value: `"golang"`})
		c.End(errors.New(`near "'SECOND_LIT'": syntax error`))
		h := ar.StartCall("http", "GET api.example.com/x")
		h.SetRequest("GET https://api.example.com/x?next=https://u:URLPASS@h/?token=NESTED&q=go")
		h.SetResponse(`{"session":"RESPSESSION","n":2}`)
		h.End(nil)
	})
	for _, leaked := range []string{"SECOND_LIT", "ERRUSER", "HDRSECRET", "HDRPASS", "1234", "4111111111111111",
		"URLPASS", "NESTED", "RESPSESSION", jwt} {
		if s := dump(r); strings.Contains(s, leaked) {
			t.Errorf("record keeps %q:\n%s", leaked, s)
		}
	}
	for _, kept := range []string{"curl/8.0", "SELECT * FROM users WHERE id = ?", `"golang"`, "q=go", `"n":2`, "step=2",
		"syntax error", "/reset/[REDACTED]"} {
		if s := dump(r); !strings.Contains(s, kept) {
			t.Errorf("record lost %q:\n%s", kept, s)
		}
	}
	if got := r.Calls[0].Error; got != `near "[REDACTED]": syntax error` {
		t.Errorf("call error %q", got)
	}
}

// TestRawErrors: with Errors off, error messages keep their quoted fragments
// (and are still redacted as texts).
func TestRawErrors(t *testing.T) {
	red := recording.DefaultRedaction()
	red.Errors = false
	r := recordOne(t, "/", func(ar *recording.ActiveRecord) {
		c := ar.StartCall("sql", "SELECT")
		c.End(errors.New(`near "'SECOND_LIT'": syntax error; dial postgres://app:PW@db/app`))
	}, recording.WithRedaction(red))
	if got, want := r.Calls[0].Error, `near "'SECOND_LIT'": syntax error; dial postgres://[REDACTED]@db/app`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	none := recordOne(t, "/x", func(ar *recording.ActiveRecord) {
		ar.StartCall("sql", "SELECT").End(errors.New(`near "'SECOND_LIT'"`))
	}, recording.WithRedaction(recording.Redaction{}))
	if got := none.Calls[0].Error; got != `near "'SECOND_LIT'"` {
		t.Errorf("zero Redaction changed the error to %q", got)
	}
}

func dump(r *recording.Record) string {
	var b strings.Builder
	b.WriteString(r.Path + "\n" + r.Route + "\n" + r.Query + "\n" + r.Error + "\n")
	for k, vs := range r.Headers {
		b.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	for _, c := range r.Calls {
		b.WriteString(c.Method + "|" + c.Request + "|" + c.Response + "|" + c.Error + "\n")
		for _, a := range c.Attrs {
			b.WriteString("  " + a.Key + "=" + a.Value + "\n")
		}
	}
	return b.String()
}

// TestRedactionChanged: a Redaction whose words change after
// DefaultRedaction made it follows the change.
func TestRedactionChanged(t *testing.T) {
	r := recording.DefaultRedaction()
	if r.SecretName("tenant") {
		t.Fatal("tenant is secret by default")
	}
	r.Params = append(r.Params, "tenant")
	if !r.SecretName("x-tenant-id") || r.Query("tenant=acme") != "tenant=[REDACTED]" {
		t.Error("an added word is not used")
	}
	r.Params = []string{"tenant"}
	if r.SecretName("password") {
		t.Error("a removed word is still used")
	}
	r.Values = false
	if r.Query("n=4111111111111111") != "n=4111111111111111" {
		t.Error("values are hidden after Values was turned off")
	}
}

// TestRedactionHeadersInTexts: the headers DefaultRedaction hides whole are
// hidden where a text quotes them too — Azure's keys, whose names hold no
// secret word — and a header added to Headers afterwards is followed
// (review 40). APIM's query form, subscription-key, is hidden as key is.
func TestRedactionHeadersInTexts(t *testing.T) {
	r := recording.DefaultRedaction()
	const R = recording.Redacted
	for in, want := range map[string]string{
		"Ocp-Apim-Subscription-Key: hunter2value":                      "Ocp-Apim-Subscription-Key: " + R,
		"curl -H 'Ocp-Apim-Subscription-Key: hunter2value' https://h/": "curl -H 'Ocp-Apim-Subscription-Key: " + R + "' https://h/",
		"X-Functions-Key: hunter2value":                                "X-Functions-Key: " + R,
		"Authorization: Bearer\thunter2value":                          "Authorization: Bearer\t" + R,
	} {
		if got := r.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := r.Error("401 for X-Functions-Key: hunter2value"); got != "401 for X-Functions-Key: "+R {
		t.Errorf("Error = %q", got)
	}
	if got := r.Query("subscription-key=hunter2value&x=1"); got != "subscription-key="+R+"&x=1" {
		t.Errorf("Query = %q", got)
	}
	if got := r.Text("X-Tenant: acme42"); got != "X-Tenant: acme42" {
		t.Fatalf("X-Tenant hidden before it is listed: %q", got)
	}
	r.Headers = append(r.Headers, "X-Tenant")
	if got := r.Text("X-Tenant: acme42"); got != "X-Tenant: "+R {
		t.Errorf("an added header is not used: %q", got)
	}
}
