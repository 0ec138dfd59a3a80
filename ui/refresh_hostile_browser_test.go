package ui_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// refreshPayloads are values aimed at part/refresh's answer, its sections
// each in a <template> element that the page's script parses, takes apart
// (its innerHTML, serialized) and parses again into the page: a value
// that closes or opens a template, names a section's ID, or hides markup
// where serializing and parsing again may differ (a style or noscript
// element in foreign content, a comment), and texts the rows must show as
// they are (line and paragraph separators, NUL, invalid UTF-8, a long
// value). Each sets window.__xss if it runs, and leaves an img[src=x] if
// it is parsed as markup.
var refreshPayloads = []string{
	`</template><img src=x onerror="window.__xss=1">`,
	`<template id="refresh-history"><img src=x onerror="window.__xss=1"></template>`,
	`<svg><style><img src=x onerror="window.__xss=1"></style></svg>`,
	`<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=1">`,
	`<noscript><p title="</noscript><img src=x onerror=window.__xss=1>">`,
	`<!--<img src=x onerror="window.__xss=1">-->`,
	`&lt;img src=x onerror="window.__xss=1"&gt;`,
	`<tr data-id="x"><td><img src=x onerror=window.__xss=1>`,
	"javascript:window.__xss=1\u2028\u2029\x00\xff'\"+`",
	strings.Repeat("<img src=x onerror=window.__xss=1>", 300),
}

// TestBrowserRefreshHostile: records whose method, path, query, route,
// instance and calls' names are hostile reach the dashboard through live
// refreshes (part/refresh, whose history rows historyRowsHTML writes by
// hand): no payload runs or is parsed as markup (the share bars' SVG, an
// svg.bar holding one rect, is the page's own), the history shows every
// new record, and each row shows its path's text (a NUL as U+FFFD, invalid
// UTF-8 as U+FFFD, as the browser decodes them).
func TestBrowserRefreshHostile(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live)))
	// A first record, so that the page has the history's table, and a
	// second instance, so that the rows have the instance column.
	first := makeRecord(time.Now(), 1, "/first", 200, 1)
	first.Instance = "plain"
	if err := st.Write(context.Background(), []*recording.Record{first}); err != nil {
		t.Fatal(err)
	}
	b.Navigate(t, "/stats/")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	var ids []string
	var recs []*recording.Record
	for i, p := range refreshPayloads {
		r := makeRecord(time.Now(), uint64(100+i), "/h/"+p, 200+i, 3)
		r.Method = p
		r.Route = "GET /h/" + p
		r.Query = p
		r.Instance = p
		r.Error = p
		for j := range r.Calls {
			r.Calls[j].Service = p
			r.Calls[j].Method = p
			r.Calls[j].Phases = []recording.Phase{{Name: p, Duration: time.Millisecond}}
		}
		recs = append(recs, r)
		ids = append(ids, r.ID.String())
	}
	if err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := live.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "the hostile records", `document.querySelector('tr[data-id="`+ids[len(ids)-1]+`"]') !== null`, browsertest.Patience)
	if v := b.Eval(t, `window.__xss === undefined && document.querySelectorAll("img[src=x]").length === 0 &&
		document.querySelectorAll(":is(#stats-section, #history-section) :is(template, svg:not(.bar), svg.bar :not(rect), math, noscript, style, script:not([type='application/json']))").length === 0`); v != true {
		t.Errorf("after live refreshes: a payload ran or was parsed as markup")
	}
	idsJSON, _ := json.Marshal(ids)
	if v := b.Eval(t, `(() => { const ids = `+string(idsJSON)+`; return ids.filter(id => !document.querySelector('#history-section tr[data-id="' + id + '"]')).length })()`); v != float64(0) {
		t.Errorf("%v hostile records missing from the history after the refreshes", v)
	}
	for i, p := range refreshPayloads {
		want := strings.ToValidUTF8(strings.ReplaceAll("/h/"+p, "\x00", "\uFFFD"), "\uFFFD")
		got := b.Eval(t, `document.querySelector('tr[data-id="`+ids[i]+`"] td.path a').firstChild.textContent`)
		if got != want {
			t.Errorf("payload %d: the row's path shows %q, want %q", i, got, want)
		}
		gotMethod := b.Eval(t, `document.querySelector('tr[data-id="`+ids[i]+`"] td.method').textContent`)
		if wantMethod := strings.ToValidUTF8(strings.ReplaceAll(p, "\x00", "\uFFFD"), "\uFFFD"); gotMethod != wantMethod {
			t.Errorf("payload %d: the row's method shows %q, want %q", i, gotMethod, wantMethod)
		}
	}
	if v := b.Eval(t, `document.querySelectorAll('#stats-section .rpc-table, #stats-section .path-table').length`); v != float64(2) {
		t.Errorf("the stats section after the refreshes has %v of its two tables", v)
	}
	b.Check(t)
}
