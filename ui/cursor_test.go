package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestCursors: the next of api/records is of the length ui/API.md gives
// for each store (32 hex digits for memstore, 48 for badgerstore), and
// pages follow one another with it; a before of another length, or of the
// other store's, is answered with 400 and a message that names before and
// says what to pass, on the API and the dashboard, where it answered a
// message naming no parameter ("store: invalid query: cursor …").
func TestCursors(t *testing.T) {
	bs, err := badgerstore.Open(t.TempDir(), badgerstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	ms := memstore.New(0)
	t.Cleanup(func() { ms.Close() })
	for _, tc := range []struct {
		name   string
		st     store.Store
		digits int
	}{{"memstore", ms, 32}, {"badgerstore", bs, 48}} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now().Add(-time.Minute)
			var recs []*recording.Record
			for i := range 5 {
				recs = append(recs, makeRecord(now.Add(time.Duration(i)*time.Millisecond), uint64(i+1), fmt.Sprintf("/p/%d", i), 200, 1))
			}
			if err := tc.st.Write(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			h := ui.NewHandler(tc.st)
			type page struct {
				Records []struct{ ID string }
				Next    string
			}
			var ids []string
			next := ""
			for range 10 {
				p := decode[page](t, do(h, "GET", "/stats/api/records?limit=2&before="+next, nil))
				for _, r := range p.Records {
					ids = append(ids, r.ID)
				}
				if next = p.Next; next == "" {
					break
				}
				if len(next) != tc.digits || strings.Trim(next, "0123456789abcdef") != "" {
					t.Fatalf("next %q: want %d lowercase hex digits", next, tc.digits)
				}
			}
			if len(ids) != 5 || ids[0] != recs[4].ID.String() || ids[4] != recs[0].ID.String() {
				t.Fatalf("pages listed %v, want the 5 records newest first", ids)
			}
			good := decode[page](t, do(h, "GET", "/stats/api/records?limit=1", nil)).Next
			other := strings.Repeat("0", 80-tc.digits) // the other store's length
			for _, c := range []string{good[:len(good)-2], good + "00", good + "0", other, "zz" + good[2:]} {
				for _, target := range []string{"/stats/api/records?before=" + url.QueryEscape(c), "/stats/?before=" + url.QueryEscape(c)} {
					w := do(h, "GET", target, nil)
					body := w.Body.String()
					if w.Code != http.StatusBadRequest {
						t.Errorf("%s: %d, want 400; %.200s", target, w.Code, body)
						continue
					}
					if want := `before "` + c + `": not a cursor this store gives: pass the next of a previous page, unchanged`; !strings.Contains(strings.ReplaceAll(body, "&#34;", `"`), want) &&
						!strings.Contains(body, strings.ReplaceAll(want, `"`, `\"`)) {
						t.Errorf("%s: the message does not name before and what to pass: %.300s", target, body)
					}
				}
			}
		})
	}
}
