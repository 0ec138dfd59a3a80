package ui

import (
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
	"github.com/go-echarts/go-echarts/v2/types"

	"github.com/goappstats/appstats/store"
)

// Charts are built with go-echarts and embedded with RenderSnippet: its
// script is inline, so it gets the page's CSP nonce.
//
// Escaping: go-echarts writes its options unescaped into the script
// (JSONNotEscaped), so no string a request controls may enter a chart's
// options. Charts carry only numbers and labels this package writes; the
// request-controlled labels of the Gantt chart (call names, errors) travel in
// a separate JSON data island, encoded by encoding/json (which escapes <, >
// and &), and app.js reads them from there. chartScript checks the result
// anyway and refuses a script that could end early.

const (
	colorRequests = "#2563eb"
	colorErrors   = "#dc2626"
)

// A chartView is a chart ready for a page: the element's ID and its script.
type chartView struct {
	ID     string
	Script template.HTML
}

type snippetter interface {
	RenderSnippet() render.ChartSnippet
}

var errUnsafeScript = errors.New("chart script failed the escaping check")

// chartScript renders a chart's script, checks it and returns its body: the
// text after the opening tag, which withNonce completes.
func chartScript(c snippetter) (string, error) {
	s := c.RenderSnippet().Script
	const open = `<script type="text/javascript">`
	if !strings.HasPrefix(s, open) {
		return "", fmt.Errorf("unexpected go-echarts script: %w", errUnsafeScript)
	}
	body := s[len(open):]
	lower := strings.ToLower(body)
	if strings.Count(lower, "</script") != 1 || !strings.HasSuffix(strings.TrimSpace(lower), "</script>") ||
		strings.Contains(lower, "<!--") || strings.Contains(lower, "<script") {
		return "", errUnsafeScript
	}
	return body, nil
}

// withNonce opens a script body from chartScript with the response's nonce,
// base64url from crypto/rand: nothing to escape.
func withNonce(body, nonce string) template.HTML {
	return template.HTML(`<script nonce="` + nonce + `">` + body)
}

func initOpts(id, assets string) charts.GlobalOpts {
	return charts.WithInitializationOpts(opts.Initialization{
		ChartID:    id,
		AssetsHost: assets,
		Width:      "100%",
		Height:     "100%",
	})
}

var gridOpts = opts.Grid{Left: "12", Right: "24", Top: "40", Bottom: "12", ContainLabel: opts.Bool(true)}

// axisTooltip is the tooltip of a chart of trigger "axis", made by app.js'
// AppStats.axisTooltip as elements, its values formatted by the function
// fmt names ("" for as they are): echarts' own tooltip markup has style
// attributes, which the UI's Content-Security-Policy blocks.
func axisTooltip(fmt string) opts.Tooltip {
	if fmt == "" {
		fmt = "null"
	}
	return opts.Tooltip{Show: opts.Bool(true), Trigger: "axis",
		Formatter: opts.FuncOpts(`function (p) { return AppStats.axisTooltip(p, ` + fmt + `); }`)}
}

func axisLabelColor() *opts.AxisLabel {
	return &opts.AxisLabel{Color: "#64748b", HideOverlap: opts.Bool(true)}
}

func splitLine() *opts.SplitLine {
	return &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: "#eef2f7"}}
}

// The dashboard's charts have the same options for every window: their
// scripts are rendered once per handler, and AppStats.fill* give them their
// data from the page's JSON data islands ("series-data": the api/series
// answer; "hist-data": the histogram's bucket labels and counts, from the
// store's Stats), which live updates replace.
// The cost of a dashboard thus grows with the number of buckets, not with
// go-echarts' template work.

// requestsChart draws requests and failed requests per bucket.
func requestsChart(assets string) *charts.Line {
	c := charts.NewLine()
	c.SetGlobalOptions(
		initOpts("chartRequests", assets),
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{colorRequests, colorErrors}),
		charts.WithTooltipOpts(axisTooltip("")),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "4", Right: "16", Icon: "roundRect"}),
		charts.WithGridOpts(gridOpts),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", SplitNumber: 5, AxisLabel: axisLabelColor()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", MinInterval: 1, AxisLabel: axisLabelColor(), SplitLine: splitLine()}),
	)
	c.AddSeries("Requests", nil,
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.12)}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
	)
	c.AddSeries("Errors", nil,
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.18)}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
	)
	c.AddJSFuncStrs(types.FuncStr(`AppStats.fillRequests(` + render.EchartsInstancePlaceholder + `);`))
	return c
}

// latencyChart draws p50, p95 and p99 latency per bucket in milliseconds.
// Buckets without requests are gaps, not zeros.
func latencyChart(assets string) *charts.Line {
	c := charts.NewLine()
	c.SetGlobalOptions(
		initOpts("chartLatency", assets),
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{"#16a34a", "#d97706", "#dc2626"}),
		charts.WithTooltipOpts(axisTooltip("AppStats.fmtMS")),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "4", Right: "16", Icon: "roundRect"}),
		charts.WithGridOpts(gridOpts),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", SplitNumber: 5, AxisLabel: axisLabelColor()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "ms", AxisLabel: axisLabelColor(), SplitLine: splitLine()}),
	)
	for _, name := range []string{"p50", "p95", "p99"} {
		c.AddSeries(name, nil,
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), ConnectNulls: opts.Bool(false)}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
		)
	}
	c.AddJSFuncStrs(types.FuncStr(`AppStats.fillLatency(` + render.EchartsInstancePlaceholder + `);`))
	return c
}

// histogramLabels names a histogram's buckets by their bounds: "≤ 5ms", and
// "> 10s" for the last.
func histogramLabels(h []store.HistogramBucket) []string {
	out := make([]string, len(h))
	prev := time.Duration(0)
	for i, b := range h {
		if b.Le == 0 {
			out[i] = "> " + shortDur(prev)
		} else {
			out[i] = "≤ " + shortDur(b.Le)
			prev = b.Le
		}
	}
	return out
}

// shortDur formats the round durations of histogram bounds: "5ms", "2s".
func shortDur(d time.Duration) string {
	switch {
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d >= time.Millisecond && d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}

// histogramChart draws the latency histogram of the window; its categories
// (the buckets) come with the data, as the store's Stats has them.
func histogramChart(assets string) *charts.Bar {
	c := charts.NewBar()
	c.SetGlobalOptions(
		initOpts("chartHistogram", assets),
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{"#7c3aed"}),
		charts.WithTooltipOpts(axisTooltip("")),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(gridOpts),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: axisLabelColor()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", MinInterval: 1, Name: "requests", AxisLabel: axisLabelColor(), SplitLine: splitLine()}),
	)
	c.AddSeries("Requests", nil, charts.WithBarChartOpts(opts.BarChart{BarCategoryGap: "20%"}),
		charts.WithItemStyleOpts(opts.ItemStyle{BorderRadius: "3"}))
	c.AddJSFuncStrs(types.FuncStr(`AppStats.fillHistogram(` + render.EchartsInstancePlaceholder + `);`))
	return c
}

// ganttChart builds the Gantt chart of details pages: a custom series whose
// renderItem draws one row per call (app.js's AppStats.ganttItem). The
// options are the same for every record, so the script is rendered once per
// handler; AppStats.ganttFill then gives the chart its rows from the page's
// data island, one item [row, start ms, end ms, service index, flags, row]
// per call, with the time axis' extent and the zoom of long lists. For a
// record with 1,000 calls that is much cheaper than go-echarts' three
// renderings of the data, and the island is where the names live anyway.
func ganttChart(assets string) *charts.Custom {
	c := charts.NewCustom()
	c.SetGlobalOptions(
		initOpts("chartGantt", assets),
		charts.WithAnimation(false),
		// The position a function: for a position of a word ("top"),
		// echarts draws an arrow, with a style attribute the policy blocks.
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item",
			Formatter: opts.FuncOpts(`function (p) { return AppStats.ganttTooltip(p); }`),
			Position:  opts.FuncOpts(`function (pt, p, dom, rect, size) { return AppStats.tipPosition(pt, size); }`)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "56", Top: "16", Bottom: "56", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0, Position: "top",
			AxisLabel: &opts.AxisLabel{Color: "#64748b", HideOverlap: opts.Bool(true),
				Formatter: opts.FuncOpts(`function (v) { return AppStats.fmtMS(v); }`)},
			SplitLine: splitLine()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Color: "#334155", Formatter: opts.FuncOpts(`function (v, i) { return AppStats.ganttLabel(i); }`)}}),
		// Time zoom (ctrl + wheel, and the slider); the rows in view are
		// set by ganttFill through the third, hidden one, from the scroll
		// position of the box around the chart.
		charts.WithDataZoomOpts(
			opts.DataZoom{Type: "inside", XAxisIndex: 0, FilterMode: "weakFilter"},
			opts.DataZoom{Type: "slider", XAxisIndex: 0, FilterMode: "weakFilter"},
			opts.DataZoom{Type: "slider", YAxisIndex: 0, Orient: "vertical", FilterMode: "weakFilter"},
		),
	)
	c.AddSeries("Calls", nil,
		charts.WithCustomChartOpts(opts.CustomChart{
			RenderItem: opts.FuncOpts(`function (params, api) { return AppStats.ganttItem(params, api); }`),
		}),
		charts.WithEncodeOpts(opts.Encode{X: []int{1, 2}, Y: 0}),
	)
	c.AddJSFuncStrs(types.FuncStr(`AppStats.ganttFill(` + render.EchartsInstancePlaceholder + `);`))
	return c
}
