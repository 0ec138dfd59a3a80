package recording

import (
	"fmt"
	"math"
)

// A CostModel prices the calls a request makes, as App Engine's Appstats
// priced each RPC in its billing units: a function from a call — its
// service and method, its sizes, its attributes, such as the token counts
// of a call to a language model — to a cost in a unit the operator names.
// The recorder sets each call's [Call.Cost] with it, off the request path;
// records, the stores' statistics and the dashboard add the costs up.
//
// A model prices from what a call carries: Service and Method say what was
// called, RequestSize and ResponseSize how much went each way (-1 when
// unknown), Duration how long it took, Error whether it failed, and Attrs
// what the instrumentation or the application attached (see
// [ActiveCall.SetAttr]). Custom events ([Event]) are not priced.
type CostModel struct {
	// Unit names what Price returns: "USD", "µ$", "tokens", "credits".
	// The dashboard shows it beside every cost.
	Unit string
	// Price returns the cost of one finished call, in Unit; 0 for a call
	// that costs nothing. It runs on the recorder's background goroutine,
	// one call at a time, so it need not be safe for concurrent use, and
	// it must not keep c. It sees the call before redaction (attributes
	// whose names look secret, such as "gen_ai.usage.input_tokens", still
	// hold their values), so that it can price by them. A price that is NaN or infinite counts as 0; a
	// panic counts as 0 too, for every call of the record, and is logged.
	Price func(c *Call) float64
}

// WithCostModel prices every recorded call with m (see [CostModel]). A
// model without a Price function turns pricing off. Without this option
// no call has a cost and recording pays nothing for costs.
func WithCostModel(m CostModel) Option {
	return optionFunc(func(c *config) {
		if m.Price == nil {
			c.cost = nil
			return
		}
		c.cost = &m
	})
}

// CostUnit returns the unit of the recorder's cost model, or "" when it
// prices no calls (see [WithCostModel]).
func (r *Recorder) CostUnit() string {
	if r.cfg.cost == nil {
		return ""
	}
	return r.cfg.cost.Unit
}

// price sets the cost of rec's calls with the recorder's cost model. A
// panicking model leaves every call of rec at 0 and is logged.
func (r *Recorder) price(rec *Record) {
	m := r.cfg.cost
	defer func() {
		if p := recover(); p != nil {
			for i := range rec.Calls {
				rec.Calls[i].Cost = 0
			}
			// The model sees calls before redaction: its panic value
			// may be made of their texts, and is redacted as an error
			// message is before it is logged.
			r.log.Warn("recorder: cost model panicked; the record's calls are left unpriced",
				"panic", r.cfg.redaction.Error(fmt.Sprint(p)))
		}
	}()
	for i := range rec.Calls {
		c := &rec.Calls[i]
		if c.Event {
			continue
		}
		v := m.Price(c)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		c.Cost = v
	}
}

// Cost returns the total cost of the record's calls (see [CostModel]).
func (r *Record) Cost() float64 {
	var sum float64
	for i := range r.Calls {
		sum += r.Calls[i].Cost
	}
	return sum
}

// Cost returns the total cost of the summarized record's calls: the sum of
// its RPCs' costs.
func (s *Summary) Cost() float64 {
	var sum float64
	for i := range s.RPCs {
		sum += s.RPCs[i].Cost
	}
	return sum
}
