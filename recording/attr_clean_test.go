package recording_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestAttrsCleanByAddress records attributes whose keys and values share
// memory with clean ones — substrings of one long string (same start,
// other lengths), strings made from one reused byte buffer and
// strings.Builder, values built per request — alternating, request after
// request, with attributes that must be redacted, through a Borrower sink
// (records reused). No secret may reach the sink because an attribute at
// the same addresses was found clean before.
func TestAttrsCleanByAddress(t *testing.T) {
	var mu sync.Mutex
	var failures []string
	sink := &funcBorrower{write: func(recs []*recording.Record) {
		for _, r := range recs {
			attrs := append([]recording.Attr(nil), r.Attrs...)
			for _, c := range r.Calls {
				attrs = append(attrs, c.Attrs...)
			}
			for _, a := range attrs {
				leaked := strings.Contains(a.Value, "=hunter") || strings.Contains(a.Value, "eyJhbGci")
				if (a.Key == "token" || a.Key == "password") && a.Value != recording.Redacted {
					leaked = true
				}
				if leaked {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %s=%q", r.Path, a.Key, a.Value))
					mu.Unlock()
				}
			}
		}
	}}
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(8, time.Millisecond))
	// One long string: "token" (a secret key) is a prefix of "tokenizer"
	// (not secret), a clean value a prefix of a secret one.
	keys := "tokenizer"
	vals := "hunter2-and-more-password=hunter2"
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	buf := make([]byte, 0, 128)
	var b strings.Builder
	for i := range 300 {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprintf("/r%d", i)})
		buf = append(buf[:0], "clean-value"...)
		clean := string(buf)
		buf = append(buf[:0], "password=hunter2"...)
		secretText := string(buf)
		b.Reset()
		b.WriteString("v")
		if i%2 == 1 {
			b.WriteString("=hunter3")
		}
		built := b.String()
		switch i % 4 {
		case 0:
			ar.AddAttrs(recording.Attr{Key: keys, Value: vals[:7]}, recording.Attr{Key: "note", Value: clean})
		case 1:
			ar.AddAttrs(recording.Attr{Key: keys[:5], Value: vals[:7]}, recording.Attr{Key: "note", Value: secretText})
		case 2:
			ar.AddAttrs(recording.Attr{Key: "note", Value: vals}, recording.Attr{Key: "jwt_ok", Value: jwt[:3]})
		case 3:
			ar.AddAttrs(recording.Attr{Key: "note", Value: jwt}, recording.Attr{Key: keys[:5], Value: built})
		}
		c := recording.StartCall(ctx, "svc", "Get")
		if i%2 == 0 {
			c.SetAttr(keys, vals[:7]) // "hunter2" under a clean key: clean only if not a secret-looking value
			c.SetAttr("password", built)
		} else {
			c.SetAttr(keys[:5], vals[:7])
			c.SetAttr("note", "x"+built[:1])
		}
		c.End(nil)
		ar.Finish()
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	reportFailures(t, failures)
}

// funcBorrower is a Borrower that hands each batch to write.
type funcBorrower struct {
	write func([]*recording.Record)
}

func (s *funcBorrower) Write(_ context.Context, recs []*recording.Record) error {
	s.write(recs)
	return nil
}

func (*funcBorrower) BorrowsRecords() bool { return true }

// reportFailures reports the first 20 failures, and how many more there
// are.
func reportFailures(t *testing.T, failures []string) {
	t.Helper()
	for i, f := range failures {
		if i == 20 {
			t.Errorf("… and %d more", len(failures)-20)
			break
		}
		t.Error(f)
	}
}
