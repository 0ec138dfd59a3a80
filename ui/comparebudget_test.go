package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// slowRouteList is a store whose List of one route's records takes until
// its context ends, as a list of a rare route among very many records
// does; it notes how long the context gave it.
type slowRouteList struct {
	*memstore.Store
	budget chan listBudget
}

// listBudget is what a List's context gave it: whether it had a deadline,
// and how long was left of it when List was called (the less, the later).
type listBudget struct {
	bounded bool
	left    time.Duration
}

func (s slowRouteList) List(ctx context.Context, q store.Query) (store.Page, error) {
	if q.Route == "" {
		return s.Store.List(ctx, q)
	}
	d, ok := ctx.Deadline()
	if !ok {
		s.budget <- listBudget{}
		return s.Store.List(ctx, q) // no bound: answer, and fail below
	}
	s.budget <- listBudget{true, time.Until(d)}
	<-ctx.Done()
	return store.Page{}, ctx.Err()
}

// TestCompareChoiceBudget checks that the details page does not wait
// without bound for the compare form's list: the store's List is given a
// deadline within a second, and when it runs out the page is served
// whole, without the form.
func TestCompareChoiceBudget(t *testing.T) {
	mem := memstore.New(0)
	t.Cleanup(func() { mem.Close() })
	now := time.Now()
	a, b := makeRecord(now.Add(-2*time.Second), 1, "/users/1", 200, 3), makeRecord(now.Add(-time.Second), 2, "/users/2", 200, 3)
	if err := mem.Write(context.Background(), []*recording.Record{a, b}); err != nil {
		t.Fatal(err)
	}
	st := slowRouteList{Store: mem, budget: make(chan listBudget, 1)}
	h := ui.NewHandler(st)
	done := make(chan string, 1)
	go func() {
		w := do(h, "GET", "/stats/records/"+a.ID.String(), nil)
		if w.Code != 200 {
			done <- "status " + w.Result().Status
			return
		}
		done <- w.Body.String()
	}()
	select {
	case b := <-st.budget:
		// What is left of the deadline only shrinks as a loaded machine
		// takes longer to call List: none left is a deadline still.
		if !b.bounded || b.left > time.Second {
			t.Fatalf("the compare form's List was given %+v; want a deadline within a second", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the details page did not list the route's records")
	}
	var body string
	select {
	case body = <-done:
	case <-time.After(30 * time.Second): // a bound on a hang only
		t.Fatal("the details page waited past the List's deadline")
	}
	if !strings.Contains(body, "/users/1") || !strings.Contains(body, `data-page="details"`) {
		t.Fatalf("the details page is not whole: %.300s", body)
	}
	if strings.Contains(body, `<option value="`+b.ID.String()+`">`) {
		t.Error("the details page offers a record its store did not list")
	}
}
