package ui

import (
	"html/template"
	"strconv"
	"strings"
)

// htmlEscaper escapes text for HTML element content and quoted attribute
// values, like html/template does, and replaces NUL.
var htmlEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "\x00", "\uFFFD",
)

// callsHTML renders the details page's call list. It is written by hand
// rather than with html/template because a record may have a thousand calls
// with a dozen fields and frames each, and html/template's reflective
// escaping costs ten times more; every string that comes from the record goes
// through htmlEscaper, and everything else is a constant or a number. A
// frame under a source root of src (nil: none) links to its source, from
// the page at base.
//
// calls are a page of the record's rows, the first of which is row from.
// A call's data-i is its row on the page and data-p its parent's, or -1
// where the parent is on another page (or there is none), as the
// timeline's data island numbers them, since folding matches the two; its
// id keeps the call's number in the whole record (#call-N).
func callsHTML(calls []callView, from int, src *sourceViewer, base string) template.HTML {
	var b strings.Builder
	b.Grow(len(calls) * 1024)
	esc := func(s string) { _, _ = htmlEscaper.WriteString(&b, s) }
	for i := range calls {
		cv := &calls[i]
		c := cv.C
		num := strconv.Itoa(cv.Num)
		idx := strconv.Itoa(cv.Index - from)
		parent := -1
		if cv.Parent >= from {
			parent = cv.Parent - from
		}
		b.WriteString(`<details class="call`)
		if c.Error != "" {
			b.WriteString(` failed`)
		}
		if cv.Dup > 0 {
			b.WriteString(` dup`)
		}
		if cv.Crit > 0 {
			b.WriteString(` crit`)
		}
		// The depth, as a class (d0 to d24, which set --d in app.css): a
		// style attribute would need style-src 'unsafe-inline'.
		b.WriteString(` d`)
		b.WriteString(strconv.Itoa(min(cv.Depth, 24)))
		b.WriteString(`" id="call-`)
		b.WriteString(num)
		b.WriteString(`" data-i="`)
		b.WriteString(idx)
		b.WriteString(`" data-p="`)
		b.WriteString(strconv.Itoa(parent))
		b.WriteString(`"><summary class="call-row"><span class="muted">`)
		b.WriteString(num)
		b.WriteString(`</span><span>`)
		b.WriteString(fmtDur(c.Start))
		b.WriteString(`</span><span>`)
		if c.Event {
			b.WriteString(`event`)
		} else {
			b.WriteString(fmtDur(c.Duration))
		}
		if c.Running {
			b.WriteString(` <span class="badge warn">running</span>`)
		}
		b.WriteString(`</span><span class="self">`)
		if !c.Event && cv.Kids > 0 {
			b.WriteString(fmtDur(cv.Self))
		} else if !c.Event {
			b.WriteString(`<span class="muted" title="no calls inside: all of it">`)
			b.WriteString(fmtDur(c.Duration))
			b.WriteString(`</span>`)
		}
		b.WriteString(`</span><span class="name">`)
		if cv.KidsShown > 0 {
			b.WriteString(`<button type="button" class="ctog" data-i="`)
			b.WriteString(idx)
			b.WriteString(`" aria-expanded="true" title="Fold the calls made inside this one">▾</button>`)
		} else {
			b.WriteString(`<span class="ctog-pad"></span>`)
		}
		b.WriteString(`<i class="sw c`)
		b.WriteString(strconv.Itoa(cv.Color))
		b.WriteString(`"></i><span class="svc">`)
		esc(c.Service)
		b.WriteString(`</span> <span class="meth">`)
		esc(c.Method)
		b.WriteString(`</span>`)
		if cv.Status.Text != "" {
			b.WriteString(` <span class="status `)
			b.WriteString(cv.Status.Class)
			b.WriteString(`" title="`)
			esc(cv.Status.Title)
			b.WriteString(`">`)
			esc(cv.Status.Text)
			b.WriteString(`</span>`)
		}
		if cv.Dup > 0 {
			b.WriteString(` <span class="badge dupb" title="one of `)
			b.WriteString(strconv.Itoa(cv.Dup))
			b.WriteString(` identical calls: an N+1 pattern">×`)
			b.WriteString(strconv.Itoa(cv.Dup))
			b.WriteString(`</span>`)
		}
		if cv.Crit > 0 {
			b.WriteString(` <span class="critb" title="on the critical path for `)
			b.WriteString(fmtDur(cv.Crit))
			b.WriteString(`" aria-label="on the critical path"></span>`)
		}
		if cv.Link != "" {
			// A link built from a record ID: hex digits only.
			b.WriteString(` <a class="caused" href="`)
			esc(cv.Link)
			b.WriteString(`" title="the request this call caused, recorded in this store">→ record</a>`)
		}
		if c.Error != "" {
			b.WriteString(` <span class="err-text">`)
			esc(c.Error)
			b.WriteString(`</span>`)
		}
		b.WriteString(`</span><span class="num">`)
		b.WriteString(fmtBytes(c.RequestSize))
		b.WriteString(`</span><span class="num">`)
		b.WriteString(fmtBytes(c.ResponseSize))
		b.WriteString(`</span></summary><div class="call-body">`)
		pre := func(label, text, class string) {
			if text == "" {
				return
			}
			b.WriteString(`<div class="kv"><span>`)
			b.WriteString(label)
			b.WriteString(`</span><pre`)
			b.WriteString(class)
			b.WriteString(`>`)
			esc(text)
			b.WriteString(`</pre></div>`)
		}
		pre("Request", c.Request, "")
		pre("Response", c.Response, "")
		pre("Error", c.Error, ` class="bad"`)
		if c.Cost != 0 {
			b.WriteString(`<div class="kv"><span>Cost</span><div class="cost">`)
			b.WriteString(fmtCost(c.Cost))
			if cv.CostUnit != "" {
				b.WriteString(` `)
				esc(cv.CostUnit)
			}
			b.WriteString(`</div></div>`)
		}
		if len(c.Phases) > 0 {
			b.WriteString(`<div class="kv"><span>Phases</span><div>`)
			for _, p := range c.Phases {
				b.WriteString(`<span class="phase"><i class="sw ph ph-`)
				esc(phaseClass(p.Name))
				b.WriteString(`"></i>`)
				esc(p.Name)
				b.WriteString(` `)
				b.WriteString(fmtDur(p.Duration))
				b.WriteString(`</span>`)
			}
			b.WriteString(`</div></div>`)
		}
		if len(c.Attrs) > 0 {
			b.WriteString(`<div class="kv"><span>Attributes</span><div>`)
			for _, a := range c.Attrs {
				b.WriteString(`<span class="attr"><b>`)
				esc(a.Key)
				b.WriteString(`</b>=`)
				esc(a.Value)
				b.WriteString(`</span>`)
			}
			b.WriteString(`</div></div>`)
		}
		if len(c.Stack) > 0 {
			b.WriteString(`<div class="kv"><span>Stack</span><ol class="stack">`)
			for _, f := range c.Stack {
				b.WriteString(`<li><span class="fn">`)
				esc(f.Function)
				b.WriteString(`</span>`)
				link := src.linkable(f.File)
				if link {
					b.WriteString(`<a class="file src" href="`)
					esc(sourceLink(base, f.File, f.Line))
					b.WriteString(`">`)
				} else {
					b.WriteString(`<span class="file">`)
				}
				esc(f.File)
				b.WriteString(`:`)
				b.WriteString(strconv.Itoa(f.Line))
				if link {
					b.WriteString(`</a></li>`)
				} else {
					b.WriteString(`</span></li>`)
				}
			}
			b.WriteString(`</ol></div>`)
		}
		b.WriteString("</div></details>\n")
	}
	return template.HTML(b.String())
}

// phaseClass is the CSS class suffix of a phase: its name when it is one of
// the HTTP phases app.css colours, "other" for anything else.
func phaseClass(name string) string {
	switch name {
	case "dns", "connect", "tls", "send", "wait", "receive":
		return name
	}
	return "other"
}
