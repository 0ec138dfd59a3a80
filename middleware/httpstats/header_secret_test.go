package httpstats_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// headerCheckSink checks each record's headers inside Write, against the
// headers its request sent, and keeps nothing of the record when borrow is
// set (a Borrower: the recorder reuses its records); else it keeps the
// records and checks them once written.
type headerCheckSink struct {
	borrow bool
	check  func(*recording.Record)
	mu     sync.Mutex
	kept   []*recording.Record
}

func (s *headerCheckSink) Write(_ context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.check(r)
		if !s.borrow {
			s.kept = append(s.kept, r)
		}
	}
	return nil
}

func (s *headerCheckSink) BorrowsRecords() bool { return s.borrow }

// TestHeadersNoSecretNoStaleValue sends requests whose headers vary the
// way a reused record's header map is refilled or remade — the same names
// with other values, a name with two values then one, fewer names, more
// names, secret names (Authorization, Cookie, a custom one, one secret by
// a word past the name cap), values over their cap, values past the
// total cap — through httpstats with a Borrower sink and with a keeping
// one. No secret value, nor any part of it, may reach a sink, and every
// other value a record holds must be its own request's, as many as it sent.
func TestHeadersNoSecretNoStaleValue(t *testing.T) {
	for _, borrow := range []bool{true, false} {
		t.Run(fmt.Sprint("borrow=", borrow), func(t *testing.T) {
			testHeadersNoSecretNoStaleValue(t, borrow)
		})
	}
}

func testHeadersNoSecretNoStaleValue(t *testing.T, borrow bool) {
	const maxName, maxValue = 40, 48
	var mu sync.Mutex
	sent := map[string]http.Header{} // by path, as the handler saw them
	var secrets []string
	secret := func(i int, what string) string {
		// Plain words: a value that does not look secret by itself,
		// hidden only by its header's name.
		s := fmt.Sprintf("%05d%s-sesame-horse", i, what)
		mu.Lock()
		secrets = append(secrets, s)
		mu.Unlock()
		return s
	}
	longSecretName := "X-Vendor-Specific-Extension-Header-Api-Key" // over maxName; its secret word past the cut
	if len(longSecretName) <= maxName {
		t.Fatal("name not over the cap")
	}
	red := recording.DefaultRedaction()
	red.Headers = append(red.Headers, "X-Custom-Confidential")
	var failures []string
	check := func(r *recording.Record) {
		mu.Lock()
		want, ok := sent[r.Path]
		all := slices.Clone(secrets)
		mu.Unlock()
		fail := func(format string, args ...any) {
			failures = append(failures, r.Path+": "+fmt.Sprintf(format, args...))
		}
		if !ok {
			fail("no request sent")
			return
		}
		for name, vs := range r.Headers {
			for _, v := range vs {
				for _, s := range all {
					// A secret cut to a cap is still one: its start, which
					// no other secret shares, is looked for.
					if strings.Contains(v, s[:12]) || strings.Contains(name, s[:12]) {
						fail("header %s holds secret %q: %q", name, s, v)
					}
				}
				if k := strings.Index(v, "req="); k >= 0 && !strings.HasPrefix(v[k+4:], r.Path+";") {
					fail("header %s holds another request's value %q", name, v)
				}
			}
		}
		for name, vs := range want {
			if !strings.HasPrefix(name, "X-Plain") {
				continue
			}
			got := r.Headers[name]
			if _, cut := r.Headers[recording.HeaderTruncated]; cut && len(got) < len(vs) {
				// Values past the total cap are left out, and counted.
				vs = vs[:len(got)]
			}
			if !slices.Equal(got, vs) {
				fail("header %s = %q, sent %q", name, got, vs)
			}
		}
		for name := range r.Headers {
			if strings.HasPrefix(name, "X-Plain") && want[name] == nil {
				fail("header %s not sent: %q", name, r.Headers[name])
			}
		}
	}
	sink := &headerCheckSink{borrow: borrow, check: check}
	rec := recording.New(recording.WithSinks(sink), recording.WithRedaction(red),
		recording.WithMaxName(maxName), recording.WithMaxHeaders(maxValue, 900),
		recording.WithBatch(4, time.Millisecond))
	srv := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
	})))
	defer srv.Close()
	client := srv.Client()
	const requests = 400
	for i := range requests {
		path := fmt.Sprintf("/r%d", i)
		val := func(n int) string { return fmt.Sprintf("req=%s;%d", path, n) }
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := req.Header
		h.Set("User-Agent", "attack")
		// Every request sends the same few names mostly, so that a
		// reused record's map is refilled; variants change the values'
		// counts, leave names out, add some.
		h["X-Plain-A"] = []string{val(1)}
		h["X-Plain-B"] = []string{val(2), val(3)}
		h.Set("Authorization", "Bearer "+secret(i, "auth"))
		h.Set("Cookie", "sid="+secret(i, "cookie"))
		switch i % 7 {
		case 1:
			h["X-Plain-B"] = []string{val(2)} // two values, then one
		case 2:
			delete(h, "X-Plain-A") // a name fewer
		case 3:
			h.Set("X-Custom-Confidential", secret(i, "custom"))
		case 4:
			h[longSecretName] = []string{secret(i, "longname")}
		case 5:
			h["X-Plain-B"] = []string{val(2), val(3), val(4)} // a value more
			h.Set("Authorization", "Bearer "+secret(i, "long")+strings.Repeat("x", 2*maxValue))
		case 6:
			// Past the total cap: some values left out, counted.
			for j := range 30 {
				h.Set(fmt.Sprintf("X-Filler-%02d", j), val(10+j))
			}
			h.Add("Cookie", "other="+secret(i, "cookie2"))
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, r := range sink.kept { // checked again, once the writer is done with them
		check(r)
	}
	if st := rec.Stats(); st.Written != requests {
		t.Errorf("Written %d, want %d (Dropped %d)", st.Written, requests, st.Dropped)
	}
	slices.Sort(failures)
	failures = slices.Compact(failures)
	for i, f := range failures {
		if i == 20 {
			t.Errorf("… and %d more", len(failures)-20)
			break
		}
		t.Error(f)
	}
}
