package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestDemoCost: with the demo's cost model, a language model's call costs
// its tokens' price, HTTP and SQL calls their per-call prices, and the
// dashboard's stats add them up.
func TestDemoCost(t *testing.T) {
	as, srv := serveDemo(t, appstats.Config{InMemory: true, NoOTLP: true, Cost: demoCost})
	for _, p := range []string{"/assistant", "/orders"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ctx := context.Background()
	byPath := map[string]*recording.Record{}
	for deadline := time.Now().Add(10 * time.Second); len(byPath) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		page, err := as.Store().List(ctx, store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Records {
			if r, err := as.Store().Get(ctx, s.ID); err == nil && s.Kind == recording.KindHTTP {
				byPath[r.Path] = r
			}
		}
	}
	ask := byPath["/assistant"]
	if ask == nil || len(ask.Calls) != 1 {
		t.Fatalf("the /assistant record: %+v", ask)
	}
	c := ask.Calls[0]
	in, err1 := strconv.Atoi(c.Attr("gen_ai.usage.input_tokens"))
	out, err2 := strconv.Atoi(c.Attr("gen_ai.usage.output_tokens"))
	if err1 != nil || err2 != nil {
		t.Fatalf("token counts not recorded: %v %v", err1, err2)
	}
	if want := float64(in)*pricePerInputToken + float64(out)*pricePerOutputToken; math.Abs(c.Cost-want) > 1e-15 {
		t.Errorf("the model's call costs %v, want %v", c.Cost, want)
	}
	orders := byPath["/orders"]
	if orders == nil {
		t.Fatal("no /orders record")
	}
	var want float64
	for _, c := range orders.Calls {
		switch c.Service {
		case "http":
			want += pricePerAPICall + float64(max(c.ResponseSize, 0))/1e9*pricePerGBOut
		case "sql":
			want += pricePerQuery
		}
	}
	if want == 0 || math.Abs(orders.Cost()-want) > 1e-15 {
		t.Errorf("/orders costs %v, want %v", orders.Cost(), want)
	}
	st, err := as.Store().Stats(ctx, store.Window{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, r := range st.Routes {
		total += r.Cost
	}
	if math.Abs(total-(ask.Cost()+orders.Cost())) > 1e-12 {
		t.Errorf("the routes cost %v in all, want %v", total, ask.Cost()+orders.Cost())
	}
}
