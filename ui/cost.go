package ui

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// WithCostUnit names the unit of the calls' costs ("USD", "tokens"), as
// the recorder's cost model prices them (see [recording.WithCostModel]).
// The dashboard then adds Cost and Cost % columns to its RPC and path
// stats and a total to each request's details. Without it the unit is the
// one of the recorder given to [WithRecorder]; the columns show too when
// the stored calls have costs but no unit is known.
func WithCostUnit(unit string) Option {
	return optionFunc(func(c *config) { c.costUnit = unit })
}

// costUnit returns the unit of costs: WithCostUnit's, or the recorder's.
func (h *handler) costUnit() string {
	if h.cfg.costUnit != "" {
		return h.cfg.costUnit
	}
	if h.cfg.rec != nil {
		return h.cfg.rec.CostUnit()
	}
	return ""
}

// costColumns says whether the dashboard's tables show costs, in which
// unit, and the window's total cost that Cost % divides.
type costColumns struct {
	On    bool
	Unit  string
	Total float64
}

// costColumnsOf returns the cost columns of the stats all: shown when a
// unit is named or some call has a cost.
func costColumnsOf(all *store.Stats, unit string) costColumns {
	c := costColumns{Unit: unit}
	for i := range all.RPCs {
		c.Total += all.RPCs[i].Cost
	}
	c.On = unit != "" || c.Total != 0
	return c
}

// share returns cost's part of the total, 0 when there is none.
func (c costColumns) share(cost float64) float64 {
	if c.Total == 0 {
		return 0
	}
	return cost / c.Total
}

// costCellView is what the costCells template renders for one row.
type costCellView struct {
	On    bool
	Cost  float64
	Share float64
	Top   bool // a main row: its share gets a bar
}

// costCell is the template function behind a row's cost cells.
func costCell(c costColumns, cost float64, top bool) costCellView {
	return costCellView{On: c.On, Cost: cost, Share: c.share(cost), Top: top}
}

// fmtCost formats a cost with four significant digits at most, in plain
// notation, grouping thousands: 0.0001234, 0.052, 12.35, 1 234 568.
func fmtCost(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v == 0:
		return "0"
	}
	neg := v < 0
	v = math.Abs(v)
	digits := 0 // after the point
	if e := int(math.Floor(math.Log10(v))); e < 3 {
		digits = min(3-e, 12)
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// requestCostOf returns the cost columns of one request's details: its
// total, shown when a unit is named or some call has a cost.
func requestCostOf(rec *recording.Record, unit string) costColumns {
	t := rec.Cost()
	return costColumns{On: unit != "" || t != 0, Unit: unit, Total: t}
}

// jsonCost is a cost in the JSON API: a number, or null when it is not a
// finite one — a sum of costs past the largest float64, which
// encoding/json could not encode at all, so that one record priced that
// high made every answer that sums it fail. The dashboard shows such a
// cost as "–" (fmtCost). A null decodes as 0.
type jsonCost float64

func (c jsonCost) MarshalJSON() ([]byte, error) {
	f := float64(c)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}
