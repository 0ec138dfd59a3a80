package ui_test

import (
	"context"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestStoredNotice writes, to a Badger store with a budget of 3 records per
// route and second, 60 requests of one route in one second and 2 of
// another: the API counts all of them and says how many were kept in
// full, and the dashboard says so under the busy route only.
func TestStoredNotice(t *testing.T) {
	ctx := context.Background()
	st, err := badgerstore.Open(t.TempDir(), badgerstore.Options{RecordBudget: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	var recs []*recording.Record
	for i := range 60 {
		r := makeRecord(now.Add(time.Duration(i)*time.Millisecond), uint64(i), fmt.Sprintf("/users/%d", i), 200, 2)
		r.Duration = 10 * time.Millisecond // none slower than the first
		recs = append(recs, r)
	}
	for i := range 2 {
		r := makeRecord(now.Add(time.Duration(i)*time.Millisecond), uint64(100+i), "/health", 200, 0)
		r.Route, r.Duration = "GET /health", time.Millisecond
		recs = append(recs, r)
	}
	if err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(st)
	w := do(h, "GET", "/stats/api/stats?window=1h", nil)
	type statsResp struct {
		Requests int64 `json:"requests"`
		Paths    []struct {
			Route    string `json:"route"`
			Requests int64  `json:"requests"`
			Stored   int64  `json:"stored"`
		} `json:"paths"`
	}
	s := decode[statsResp](t, w)
	if s.Requests != 62 || len(s.Paths) != 2 {
		t.Fatalf("api/stats: %d requests, %d paths; want 62, 2: %s", s.Requests, len(s.Paths), w.Body)
	}
	for _, p := range s.Paths {
		want := map[string][2]int64{"GET /users/{id}": {60, 3}, "GET /health": {2, 2}}[p.Route]
		if p.Requests != want[0] || p.Stored != want[1] {
			t.Errorf("path %s: %d requests, %d stored; want %d, %d", p.Route, p.Requests, p.Stored, want[0], want[1])
		}
	}
	health := do(h, "GET", "/stats/api/health", nil)
	if !strings.Contains(health.Body.String(), `"over_budget":57`) {
		t.Errorf("api/health does not count 57 records over budget: %s", health.Body)
	}
	page := html.UnescapeString(do(h, "GET", "/stats/?window=1h", nil).Body.String())
	if n := strings.Count(page, "requests kept in full; all are counted; recent ones held in memory"); n != 1 {
		t.Fatalf("dashboard shows the notice %d times, want once (the busy route)", n)
	}
	if !strings.Contains(page, "3 of 60 requests kept in full") {
		t.Error("dashboard does not say 3 of 60 requests kept in full")
	}
	if !strings.Contains(page, "57 not kept in full") {
		t.Error("dashboard's store panel does not count the 57 records not kept in full")
	}
	// The records not persisted are listed from memory, and open.
	w = do(h, "GET", "/stats/api/records?limit=100", nil)
	type listResp struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	l := decode[listResp](t, w)
	if len(l.Records) != 62 {
		t.Fatalf("api/records lists %d records, want all 62 (3+2 persisted, 57 in memory)", len(l.Records))
	}
	if w := do(h, "GET", "/stats/records/"+recs[59].ID.String(), nil); w.Code != 200 {
		t.Errorf("details of a record held in memory: %d", w.Code)
	}
}

// unfilledStored is a store that does not fill RouteStats.Stored, as a
// store written before the field would not.
type unfilledStored struct{ store.Store }

func (s unfilledStored) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	st, err := s.Store.Stats(ctx, w)
	if err != nil {
		return nil, err
	}
	for i := range st.Routes {
		st.Routes[i].Stored = 0
	}
	return st, nil
}

// TestStoredUnfilled checks that a store leaving Stored zero is taken to
// keep every record: no notice on the dashboard, stored = requests in the
// API.
func TestStoredUnfilled(t *testing.T) {
	ms := memstore.New(100)
	defer ms.Close()
	now := time.Now().Add(-time.Minute)
	var recs []*recording.Record
	for i := range 5 {
		recs = append(recs, makeRecord(now.Add(time.Duration(i)*time.Millisecond), uint64(i), fmt.Sprintf("/users/%d", i), 200, 1))
	}
	if err := ms.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(unfilledStored{ms})
	w := do(h, "GET", "/stats/api/stats?window=1h", nil)
	s := decode[struct {
		Paths []struct {
			Requests int64 `json:"requests"`
			Stored   int64 `json:"stored"`
		} `json:"paths"`
	}](t, w)
	if len(s.Paths) != 1 || s.Paths[0].Requests != 5 || s.Paths[0].Stored != 5 {
		t.Errorf("api/stats paths = %+v, want one with 5 requests, 5 stored", s.Paths)
	}
	if page := do(h, "GET", "/stats/?window=1h", nil).Body.String(); strings.Contains(page, "kept in full") {
		t.Error("dashboard says records were not kept in full, of a store that does not fill Stored")
	}
}
