package ui_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// pricedStore returns a store of records whose sql calls cost 0.25 and
// http calls 1.5 each, and the records.
func pricedStore(t *testing.T) (*memstore.Store, []*recording.Record) {
	t.Helper()
	st := memstore.New(0)
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	var recs []*recording.Record
	for i := range 4 {
		r := makeRecord(now.Add(-time.Duration(10-i)*time.Second), uint64(i+1), "/users/1", 200, 4)
		if i%2 == 1 {
			r.Route = "POST /orders"
		}
		for j := range r.Calls {
			switch r.Calls[j].Service {
			case "sql":
				r.Calls[j].Cost = 0.25
			case "http":
				r.Calls[j].Cost = 1.5
			}
		}
		recs = append(recs, r)
	}
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return st, recs
}

func TestCostColumns(t *testing.T) {
	st, recs := pricedStore(t)
	h := ui.NewHandler(st, ui.WithCostUnit("USD"))

	// Each record: one sql (0.25) and one http (1.5) call, 4 records: 7 in all.
	body := do(h, "GET", "/stats/", nil).Body.String()
	for _, want := range []string{
		`<th class="num cost">Cost <span class="unit">USD</span></th><th class="share cost-share">Cost %</th>`,
		`<td class="num cost">6</td>`,   // http: 4 × 1.5
		`<td class="num cost">1</td>`,   // sql: 4 × 0.25
		`<td class="num cost">3.5</td>`, // each route: 2 records
		`85.7%`,                         // http's share of 7
		`50.0%`,                         // a route's share
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard: no %q", want)
		}
	}

	type statsResp struct {
		Cost     float64 `json:"cost"`
		CostUnit string  `json:"cost_unit"`
		RPCs     []struct {
			Service   string  `json:"service"`
			Cost      float64 `json:"cost"`
			CostShare float64 `json:"cost_share"`
			Routes    []struct {
				Cost float64 `json:"cost"`
			} `json:"routes"`
		} `json:"rpcs"`
		Paths []struct {
			Route     string  `json:"route"`
			Cost      float64 `json:"cost"`
			CostShare float64 `json:"cost_share"`
		} `json:"paths"`
	}
	sj := decode[statsResp](t, do(h, "GET", "/stats/api/stats?window=1h", nil))
	if sj.Cost != 7 || sj.CostUnit != "USD" {
		t.Errorf("stats: cost %v %q, want 7 USD", sj.Cost, sj.CostUnit)
	}
	for _, r := range sj.RPCs {
		want := map[string]float64{"sql": 1, "http": 6}[r.Service]
		if r.Cost != want || math.Abs(r.CostShare-want/7) > 1e-9 {
			t.Errorf("rpc %s: cost %v (%v), want %v", r.Service, r.Cost, r.CostShare, want)
		}
		var sum float64
		for _, rr := range r.Routes {
			sum += rr.Cost
		}
		if sum != r.Cost {
			t.Errorf("rpc %s: its routes cost %v, want %v", r.Service, sum, r.Cost)
		}
	}
	for _, p := range sj.Paths {
		if p.Cost != 3.5 || p.CostShare != 0.5 {
			t.Errorf("path %s: cost %v (%v), want 3.5 (0.5)", p.Route, p.Cost, p.CostShare)
		}
	}

	// The details page: the request's total, per RPC, per call.
	id := recs[0].ID.String()
	body = do(h, "GET", "/stats/records/"+id, nil).Body.String()
	for _, want := range []string{`<dt>Cost</dt><dd class="cost">1.75 USD</dd>`, `<td class="num cost">1.5</td>`,
		`<div class="kv"><span>Cost</span><div class="cost">0.25 USD</div></div>`} {
		if !strings.Contains(body, want) {
			t.Errorf("details page: no %q", want)
		}
	}
	type recResp struct {
		Cost     float64 `json:"cost"`
		CostUnit string  `json:"cost_unit"`
		Calls    []struct {
			Service string  `json:"service"`
			Cost    float64 `json:"cost"`
		} `json:"calls"`
		RPCStats []struct {
			Cost float64 `json:"cost"`
		} `json:"rpc_stats"`
	}
	rj := decode[recResp](t, do(h, "GET", "/stats/api/records/"+id, nil))
	if rj.Cost != 1.75 || rj.CostUnit != "USD" || len(rj.Calls) != 4 || rj.Calls[0].Cost != 0.25 || len(rj.RPCStats) == 0 {
		t.Errorf("record JSON: %+v", rj)
	}
	type listResp struct {
		Records []struct {
			Cost float64 `json:"cost"`
		} `json:"records"`
	}
	if lj := decode[listResp](t, do(h, "GET", "/stats/api/records", nil)); len(lj.Records) != 4 || lj.Records[0].Cost != 1.75 {
		t.Errorf("list JSON: %+v", lj)
	}
}

// TestCostColumnsOff: no unit and no cost, no columns; costs without a
// unit still show.
func TestCostColumnsOff(t *testing.T) {
	st, recs := newStore(t, 5)
	h := ui.NewHandler(st)
	if b := do(h, "GET", "/stats/", nil).Body.String(); strings.Contains(b, "Cost %") {
		t.Error("the dashboard shows cost columns with no cost and no unit")
	}
	if b := do(h, "GET", "/stats/records/"+recs[0].ID.String(), nil).Body.String(); strings.Contains(b, "<dt>Cost</dt>") {
		t.Error("the details page shows a cost with no cost and no unit")
	}
	priced, _ := pricedStore(t)
	if b := do(ui.NewHandler(priced), "GET", "/stats/", nil).Body.String(); !strings.Contains(b, `<th class="num cost">Cost</th>`) {
		t.Error("the dashboard hides the costs of calls when no unit is named")
	}
	// The recorder's unit serves when none is named.
	rec := recording.New(recording.WithCostModel(recording.CostModel{Unit: "tokens", Price: func(*recording.Call) float64 { return 1 }}))
	defer rec.Close(context.Background())
	if b := do(ui.NewHandler(priced, ui.WithRecorder(rec)), "GET", "/stats/", nil).Body.String(); !strings.Contains(b, `Cost <span class="unit">tokens</span>`) {
		t.Error("the dashboard does not take the recorder's unit")
	}
}

// TestCostOverflow: costs whose sum is not a finite number (each call
// priced at the largest float64, which the recorder keeps) are null in the
// JSON API, not a 500 for every answer that sums them: api/stats and
// api/records for the whole window.
func TestCostOverflow(t *testing.T) {
	st, recs := pricedStore(t)
	big := recs[3]
	big.ID = recID(big.Start.Add(time.Millisecond), 99)
	for j := range big.Calls {
		big.Calls[j].Cost = math.MaxFloat64
	}
	neg := makeRecord(big.Start.Add(2*time.Millisecond), 98, "/users/2", 200, 2)
	neg.Calls[0].Cost = math.Inf(1) // written to the store by other code than a recorder
	writeRecs(t, st, big, neg)
	h := ui.NewHandler(st, ui.WithCostUnit("USD"))
	a, b := big.ID.String(), recs[0].ID.String()
	for _, target := range []string{
		"/stats/api/stats", "/stats/api/records", "/stats/api/records?sort=duration", "/stats/api/records/" + a,
		"/stats/api/records/" + neg.ID.String(), "/stats/api/traces/" + big.TraceID.String(),
		"/stats/api/compare?a=" + a + "&b=" + b, "/stats/api/compare?a=" + b + "&b=" + a,
		"/stats/", "/stats/records/" + a, "/stats/compare?a=" + a + "&b=" + b,
	} {
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			t.Errorf("%s: %d %.200s", target, w.Code, w.Body.String())
		}
	}
	rec := decode[struct {
		Cost  *float64 `json:"cost"`
		Calls []struct {
			Cost *float64 `json:"cost"`
		} `json:"calls"`
	}](t, do(h, "GET", "/stats/api/records/"+a, nil))
	if rec.Cost != nil || len(rec.Calls) == 0 || rec.Calls[0].Cost == nil || *rec.Calls[0].Cost != math.MaxFloat64 {
		t.Errorf("api/records/{id}: cost %v, calls %+v; want null for the total, the largest float64 for the first call", rec.Cost, rec.Calls)
	}
}
