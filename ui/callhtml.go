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
func callsHTML(calls []callView, src *sourceViewer, base string) template.HTML {
	var b strings.Builder
	b.Grow(len(calls) * 1024)
	esc := func(s string) { _, _ = htmlEscaper.WriteString(&b, s) }
	for i := range calls {
		cv := &calls[i]
		c := cv.C
		num := strconv.Itoa(cv.Num)
		b.WriteString(`<details class="call`)
		if c.Error != "" {
			b.WriteString(` failed`)
		}
		b.WriteString(`" id="call-`)
		b.WriteString(num)
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
		b.WriteString(`</span><span class="name"><i class="sw c`)
		b.WriteString(strconv.Itoa(cv.SvcIdx))
		b.WriteString(`"></i><span class="svc">`)
		esc(c.Service)
		b.WriteString(`</span> <span class="meth">`)
		esc(c.Method)
		b.WriteString(`</span>`)
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
				esc(p.Name)
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
