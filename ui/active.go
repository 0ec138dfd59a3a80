package ui

import (
	"net/http"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// Records in the making: requests running now and long-lived connections
// that are open, from the recorder ([recording.Recorder.Active]).

// activeJSON is an entry of GET api/active: a summary of the record so far,
// with its attributes (a connection's message counts).
type activeJSON struct {
	summaryJSON
	Active bool       `json:"active"`
	Attrs  []attrJSON `json:"attrs"`
}

type activeListJSON struct {
	Records []activeJSON `json:"records"`
	Total   int          `json:"total"` // records in the making, of which Records lists the newest (limit, and about 1 MiB)
}

// maxRunningRows bounds the dashboard's "Running now" table.
const maxRunningRows = 20

// apiActive serves GET api/active?limit=: the records in the making, newest
// first.
func (h *handler) apiActive(w http.ResponseWriter, r *http.Request) {
	lp, err := parseList(r.URL.Query(), 100)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	all := h.cfg.rec.Active() // nil without a recorder
	out := activeListJSON{Records: make([]activeJSON, 0, min(len(all), lp.Limit)), Total: len(all)}
	budget := apiListBudget // the answer stays under about 1 MiB, as api/records does
	for _, rec := range all[:min(len(all), lp.Limit)] {
		sum := rec.Summary()
		cost := summaryCost(&sum, apiListFixed)
		for _, a := range rec.Attrs {
			cost += 24 + textCost(a.Key) + textCost(a.Value)
		}
		if budget -= cost; budget < 0 && len(out.Records) > 0 {
			break
		}
		out.Records = append(out.Records, activeJSON{summaryJSON: toSummaryJSON(&sum), Active: true, Attrs: attrsJSON(rec.Attrs)})
	}
	writeJSON(w, http.StatusOK, out)
}

// runningSection is the dashboard's table of records in the making.
type runningSection struct {
	Rows  []runningRow
	Total int
}

type runningRow struct {
	recording.Summary
	Messages string // a connection's messages in and out, e.g. "3 in · 5 out"
}

// running returns the dashboard's "Running now" section, empty without a
// recorder.
func (h *handler) running() runningSection {
	all := h.cfg.rec.Active()
	s := runningSection{Total: len(all)}
	for _, rec := range all[:min(len(all), maxRunningRows)] {
		row := runningRow{Summary: rec.Summary()}
		if in := rec.Attr(convention.KeyStreamMessagesReceived); in != "" {
			row.Messages = in + " in · " + rec.Attr(convention.KeyStreamMessagesSent) + " out"
		}
		s.Rows = append(s.Rows, row)
	}
	return s
}
