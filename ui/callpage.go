package ui

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/goappstats/appstats/recording"
)

// A record may keep far more calls than the recorder's default cap of
// 1,000 (recording.WithMaxCalls): ten thousand calls made a details page of
// 15 MB that Chromium took seconds to lay out. The page shows the calls a
// page at a time, in the timeline's (tree) order: at most maxPageCalls of
// them, the recorder's default cap, so that a record within it has one
// page as before, and fewer where their texts are long, within
// callsBudget bytes of the call list and the timeline's data. The
// timeline charts the page's calls on the whole request's time axis; the
// pages are links (?page=P), and any call is one link away (?call=N: the
// page holding call number N, which it opens).
const (
	maxPageCalls = recording.DefaultMaxCalls
	callsBudget  = 3 << 20
)

// callCost bounds, roughly, the bytes call c takes on the details page: its
// row in the call list, opened (its request, response, attributes, stack),
// and its row of the timeline's data island. Texts a request may control
// count as escaped (textCost); stack frames, which come from the binary,
// by their length.
func callCost(c *recording.Call) int {
	n := callFixed(c) + 2*textCost(c.Service) + 2*textCost(c.Method) + 3*textCost(c.Error) +
		textCost(c.Request) + textCost(c.Response)
	for _, a := range c.Attrs {
		n += textCost(a.Key) + textCost(a.Value)
	}
	for _, p := range c.Phases {
		n += 3 * textCost(p.Name)
	}
	return n
}

// callFixed is the part of callCost that needs no scan of a text: markup,
// numbers, and the stack.
func callFixed(c *recording.Call) int {
	n := 1400 + 40*len(c.Attrs) + 160*len(c.Phases)
	for _, f := range c.Stack {
		n += 120 + len(f.Function) + 2*len(f.File)
	}
	return n
}

// callCostMax bounds callCost without reading the texts: each byte of them
// escaped into six.
func callCostMax(c *recording.Call) int {
	n := 2*len(c.Service) + 2*len(c.Method) + 3*len(c.Error) + len(c.Request) + len(c.Response)
	for _, a := range c.Attrs {
		n += len(a.Key) + len(a.Value)
	}
	for _, p := range c.Phases {
		n += 3 * len(p.Name)
	}
	return callFixed(c) + 6*n
}

// pageStarts cuts the rows of a record's calls, in tree order, into pages:
// the first row of each, in order, starting with 0. A page holds at least
// one row, at most maxPageCalls, and no more than fit in callsBudget unless
// it is the one. A record that fits in one page whatever its texts escape
// into (most records) is not read further.
func pageStarts(rec *recording.Record, order []int) []int {
	if len(order) <= maxPageCalls && onePage(rec) {
		return []int{0}
	}
	starts := []int{0}
	n, cost := 0, 0
	for k, i := range order {
		c := callCost(&rec.Calls[i])
		if n > 0 && (n == maxPageCalls || cost+c > callsBudget) {
			starts = append(starts, k)
			n, cost = 0, 0
		}
		n++
		cost += c
	}
	return starts
}

// onePage reports whether rec's calls fit in one page of the details page
// whatever their texts escape into (most records), without a scan of
// their texts: those of a record of at most maxPageCalls calls.
func onePage(rec *recording.Record) bool {
	worst := 0
	for i := range rec.Calls {
		if worst += callCostMax(&rec.Calls[i]); worst > callsBudget {
			return false
		}
	}
	return true
}

// callPages returns, by call index, the page of rec's details page that
// shows the call (1-based), so that a link to a call (#call-N) from
// another page names its page (?page=P#call-N), where the fragment is; nil
// when the calls take one page.
func callPages(rec *recording.Record) []int {
	if len(rec.Calls) <= maxPageCalls && onePage(rec) {
		return nil
	}
	order := treeOrder(rec)
	starts := pageStarts(rec, order)
	if len(starts) == 1 {
		return nil
	}
	pages := make([]int, len(rec.Calls))
	p := 0
	for k, i := range order {
		for p+1 < len(starts) && starts[p+1] <= k {
			p++
		}
		pages[i] = p + 1
	}
	return pages
}

// callPage is the page of a record's calls the details page shows.
type callPage struct {
	From, To int // rows [From, To) in tree order
	Total    int // rows in all
	Num      int // 1-based
	Pages    int
	Open     int        // the call number ?call= asked for, or 0
	Links    []pageLink // to the other pages, a few around this one
	Prev     string     // the previous page's URL, or ""
	Next     string     // the next page's URL, or ""
}

// pageLink is a link of the pages' navigation: a page, or a gap ("…").
type pageLink struct {
	Num     int
	URL     string
	Current bool
	Gap     bool
}

// Paged reports whether the calls take more than one page.
func (p callPage) Paged() bool { return p.Pages > 1 }

// pageURL is the relative URL of page num (1-based) of a record's calls.
func pageURL(num int) string {
	return "?page=" + strconv.Itoa(num) + "#calls"
}

// choosePage picks the page of calls r asks for: ?call=N, the page holding
// call number N; else ?page=P (1-based); else the first. It returns an
// error, meant for a 4xx answer, for a malformed or absent call or page
// number.
func choosePage(r *http.Request, starts []int, total int, rowOfNum func(num int) (int, bool)) (callPage, int, error) {
	q := r.URL.Query()
	p := callPage{Total: total, Pages: len(starts), Num: 1}
	if s := q.Get("call"); s != "" {
		num, err := strconv.Atoi(s)
		if err != nil {
			return p, http.StatusBadRequest, fmt.Errorf("call: %q is not a call number", s)
		}
		row, ok := rowOfNum(num)
		if !ok {
			return p, http.StatusNotFound, fmt.Errorf("call: this record has no call #%d (its calls are #1 to #%d)", num, total)
		}
		p.Open = num
		for k, st := range starts {
			if st <= row {
				p.Num = k + 1
			}
		}
	} else if s := q.Get("page"); s != "" {
		num, err := strconv.Atoi(s)
		if err != nil || num < 1 || num > len(starts) {
			return p, http.StatusBadRequest, fmt.Errorf("page: %q is not a page of this record's calls (1 to %d)", s, len(starts))
		}
		p.Num = num
	}
	p.From = starts[p.Num-1]
	p.To = total
	if p.Num < len(starts) {
		p.To = starts[p.Num]
	}
	p.link(pageURL)
	return p, 0, nil
}

// link fills in p's navigation, to the pages' URLs urlOf gives (num is
// 1-based): the previous and next pages, the first, the last, and three
// either side of this one. A page alone has none.
func (p *callPage) link(urlOf func(num int) string) {
	p.Links, p.Prev, p.Next = nil, "", ""
	if p.Pages <= 1 {
		return
	}
	if p.Num > 1 {
		p.Prev = urlOf(p.Num - 1)
	}
	if p.Num < p.Pages {
		p.Next = urlOf(p.Num + 1)
	}
	last := 0
	for k := 1; k <= p.Pages; k++ {
		if k != 1 && k != p.Pages && (k < p.Num-3 || k > p.Num+3) {
			continue
		}
		if last != 0 && k > last+1 {
			p.Links = append(p.Links, pageLink{Gap: true})
		}
		p.Links = append(p.Links, pageLink{Num: k, URL: urlOf(k), Current: k == p.Num})
		last = k
	}
}

// pageParam reads ?page= (1-based) for a list cut into pages of size
// rows of total: the page's rows [from, to), with its navigation to the
// URLs urlOf gives. It returns an error, meant for a 400 answer, for a
// page that is not one of the list's.
func pageParam(r *http.Request, total, size int, urlOf func(num int) string) (callPage, error) {
	pages := max(1, (total+size-1)/size)
	p := callPage{Total: total, Pages: pages, Num: 1}
	if s := r.URL.Query().Get("page"); s != "" {
		num, err := strconv.Atoi(s)
		if err != nil || num < 1 || num > pages {
			return p, fmt.Errorf("page: %q is not a page of this list (1 to %d)", s, pages)
		}
		p.Num = num
	}
	p.From = (p.Num - 1) * size
	p.To = min(total, p.From+size)
	p.link(urlOf)
	return p, nil
}

// pageURLOf returns the URLs of the pages of a list on the page r asked
// for: its query with page=num, and the list's anchor.
func pageURLOf(r *http.Request, anchor string) func(num int) string {
	q := r.URL.Query()
	q.Del("page")
	q.Del("call")
	rest := q.Encode()
	if rest != "" {
		rest += "&"
	}
	return func(num int) string {
		return "?" + rest + "page=" + strconv.Itoa(num) + "#" + anchor
	}
}
