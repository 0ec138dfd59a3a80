package ui

import (
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goappstats/appstats/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates are parsed once per handler.
type pageTemplates struct {
	dashboard *template.Template
	details   *template.Template
	trace     *template.Template
	compare   *template.Template
	active    *template.Template
	source    *template.Template
	errorPage *template.Template
}

var funcs = template.FuncMap{
	"dur":       fmtDur,
	"bytes":     fmtBytes,
	"pct":       func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	"pctWidth":  func(f float64) string { return strconv.FormatFloat(math.Max(0, math.Min(100, f*100)), 'f', 1, 64) },
	"fixed1":    func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"count":     fmtCount,
	"stamp":     fmtStamp,
	"iso":       fmtISO,
	"statusCls": statusClass,
	"isOther":   func(route string) bool { return route == store.Other },
	"maxRows":   func() int { return maxStatRows },
	"routeURL": func(window, route string) string {
		return "?" + url.Values{"window": {window}, "route": {route}}.Encode() + "#history"
	},
	"list":     func(s ...string) []string { return s },
	"inc":      func(n int) int { return n + 1 },
	"cost":     fmtCost,
	"costCell": costCell,
	"joinVals": func(vs []string) string { return strings.Join(vs, ", ") },
	"status":   statusOf,
	"window":   windowLabel,
	"wbr":      wbr,
	"signed":   fmtSigned,
	"signedN": func(n int) string {
		if n > 0 {
			return "+" + strconv.Itoa(n)
		}
		return strings.Replace(strconv.Itoa(n), "-", "−", 1)
	},
}

func mustParseTemplates() *pageTemplates {
	parse := func(files ...string) *template.Template {
		t := template.New("").Funcs(funcs)
		paths := make([]string, len(files))
		for i, f := range files {
			paths[i] = "templates/" + f
		}
		return template.Must(t.ParseFS(templateFS, paths...))
	}
	return &pageTemplates{
		dashboard: parse("layout.html", "dashboard.html", "cost.html"),
		details:   parse("layout.html", "timeline.html", "details.html", "exectrace.html", "cost.html"),
		trace:     parse("layout.html", "timeline.html", "trace.html"),
		compare:   parse("layout.html", "compare.html"),
		active:    parse("layout.html", "active.html"),
		source:    parse("layout.html", "source.html"),
		errorPage: parse("layout.html", "error.html").Lookup("page"),
	}
}

// fmtStamp formats t as the pages show a time, in UTC to the millisecond.
func fmtStamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") + " UTC" }

// fmtISO formats t for a datetime attribute.
func fmtISO(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// fmtDur formats a duration for tables: "850 µs", "12.3 ms", "1.24 s".
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 ms"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < 100*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	}
	return d.Round(time.Second).String()
}

// fmtBytes formats a size; a negative size is unknown.
func fmtBytes(n int64) string {
	switch {
	case n < 0:
		return "–"
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KB"
	case n < 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	}
	return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GB"
}

// fmtCount formats a count with thin separators: 12 345.
func fmtCount(n any) string {
	var v int64
	switch x := n.(type) {
	case int:
		v = int64(x)
	case int64:
		v = x
	case uint64:
		v = int64(min(x, math.MaxInt64))
	default:
		return fmt.Sprint(n)
	}
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func statusClass(code int) string {
	switch {
	case code >= 500:
		return "st5"
	case code >= 400:
		return "st4"
	case code >= 300:
		return "st3"
	case code >= 200:
		return "st2"
	}
	return "st0"
}

// fmtSigned formats a difference of durations with its sign: "+1.2 ms",
// "−850 µs", "±0".
func fmtSigned(d time.Duration) string {
	switch {
	case d > 0:
		return "+" + fmtDur(d)
	case d < 0:
		return "−" + fmtDur(-d)
	}
	return "±0"
}

// wbr escapes s for HTML and lets the browser break the line after each
// slash, and before each brace, dot, question mark or ampersand, so that
// long routes and paths wrap between their parts rather than anywhere.
func wbr(s string) template.HTML {
	var b strings.Builder
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/':
			b.WriteString(template.HTMLEscapeString(s[start : i+1]))
			b.WriteString("<wbr>")
			start = i + 1
		case '{', '.', '?', '&', '_', '-':
			if i > start {
				b.WriteString(template.HTMLEscapeString(s[start:i]))
				b.WriteString("<wbr>")
				start = i
			}
		}
	}
	b.WriteString(template.HTMLEscapeString(s[start:]))
	return template.HTML(b.String())
}
