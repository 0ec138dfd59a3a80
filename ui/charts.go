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

// palette colours services and series; app.js and app.css use the same list.
var palette = []string{
	"#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2",
	"#db2777", "#65a30d", "#7c3aed", "#0d9488", "#ea580c",
}

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

// chartScript renders a chart's script with the nonce added.
func chartScript(c snippetter, nonce string) (template.HTML, error) {
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
	// The nonce is base64url from crypto/rand: nothing to escape.
	return template.HTML(`<script nonce="` + nonce + `">` + body), nil
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

func axisLabelColor() *opts.AxisLabel { return &opts.AxisLabel{Color: "#64748b"} }

func splitLine() *opts.SplitLine {
	return &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: "#eef2f7"}}
}

// requestsChart draws requests and failed requests per bucket.
func requestsChart(bs []store.Bucket, assets string) *charts.Line {
	c := charts.NewLine()
	c.SetGlobalOptions(
		initOpts("chartRequests", assets),
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{colorRequests, colorErrors}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "4", Right: "16", Icon: "roundRect"}),
		charts.WithGridOpts(gridOpts),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", AxisLabel: axisLabelColor()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", MinInterval: 1, AxisLabel: axisLabelColor(), SplitLine: splitLine()}),
	)
	req := make([]opts.LineData, len(bs))
	errs := make([]opts.LineData, len(bs))
	for i, b := range bs {
		t := b.Start.UnixMilli()
		req[i] = opts.LineData{Value: []any{t, b.Requests}}
		errs[i] = opts.LineData{Value: []any{t, b.Errors}}
	}
	c.AddSeries("Requests", req,
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Smooth: opts.Bool(false)}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.12)}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
	)
	c.AddSeries("Errors", errs,
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.18)}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
	)
	return c
}

// latencyChart draws p50, p95 and p99 latency per bucket in milliseconds.
// Buckets without requests are gaps, not zeros.
func latencyChart(bs []store.Bucket, assets string) *charts.Line {
	c := charts.NewLine()
	c.SetGlobalOptions(
		initOpts("chartLatency", assets),
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{"#16a34a", "#d97706", "#dc2626"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis",
			ValueFormatter: opts.FuncOpts(`function (v) { return AppStats.fmtMS(v); }`)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "4", Right: "16", Icon: "roundRect"}),
		charts.WithGridOpts(gridOpts),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", AxisLabel: axisLabelColor()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "ms", AxisLabel: axisLabelColor(), SplitLine: splitLine()}),
	)
	series := [3][]opts.LineData{}
	for i := range series {
		series[i] = make([]opts.LineData, len(bs))
	}
	for i, b := range bs {
		t := b.Start.UnixMilli()
		if b.Requests == 0 {
			for j := range series {
				series[j][i] = opts.LineData{Value: []any{t, "-"}}
			}
			continue
		}
		series[0][i] = opts.LineData{Value: []any{t, ms(b.P50)}}
		series[1][i] = opts.LineData{Value: []any{t, ms(b.P95)}}
		series[2][i] = opts.LineData{Value: []any{t, ms(b.P99)}}
	}
	for i, name := range []string{"p50", "p95", "p99"} {
		c.AddSeries(name, series[i],
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), ConnectNulls: opts.Bool(false)}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 2}),
		)
	}
	return c
}

// histogramLabels names store.HistogramBounds' buckets.
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

// histogramChart draws the latency histogram of the window.
func histogramChart(h []store.HistogramBucket, assets string) *charts.Bar {
	c := charts.NewBar()
	c.SetGlobalOptions(
		initOpts("chartHistogram", assets),
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{"#7c3aed"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(gridOpts),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: axisLabelColor()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", MinInterval: 1, Name: "requests", AxisLabel: axisLabelColor(), SplitLine: splitLine()}),
	)
	c.SetXAxis(histogramLabels(h))
	data := make([]opts.BarData, len(h))
	for i, b := range h {
		data[i] = opts.BarData{Value: b.Count}
	}
	c.AddSeries("Requests", data, charts.WithBarChartOpts(opts.BarChart{BarCategoryGap: "20%"}),
		charts.WithItemStyleOpts(opts.ItemStyle{BorderRadius: "3"}))
	return c
}

// Gantt flags, the fifth value of each data item.
const (
	ganttError   = 1
	ganttRunning = 2
	ganttEvent   = 4
)

// ganttChart draws one row per call: value = [row, start ms, end ms, service
// index, flags, call index]. Names, errors and phases come from the data
// island (see ganttData) through app.js.
func ganttChart(v *detailsView, assets string) *charts.Custom {
	n := len(v.Rows)
	c := charts.NewCustom()
	zoom := []opts.DataZoom{
		{Type: "inside", XAxisIndex: 0, FilterMode: "weakFilter"},
		{Type: "slider", XAxisIndex: 0, FilterMode: "weakFilter"},
	}
	if n > maxGanttVisible {
		end := float32(maxGanttVisible) * 100 / float32(n)
		zoom = append(zoom,
			opts.DataZoom{Type: "slider", YAxisIndex: 0, Orient: "vertical", Start: 0, End: end, FilterMode: "weakFilter"},
			opts.DataZoom{Type: "inside", YAxisIndex: 0, Orient: "vertical", Start: 0, End: end, FilterMode: "weakFilter"},
		)
	}
	c.SetGlobalOptions(
		initOpts("chartGantt", assets),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item",
			Formatter: opts.FuncOpts(`function (p) { return AppStats.ganttTooltip(p); }`)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "56", Top: "16", Bottom: "56", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Min: 0, Max: v.GanttMaxMS, Position: "top",
			AxisLabel: &opts.AxisLabel{Color: "#64748b", Formatter: opts.FuncOpts(`function (v) { return AppStats.fmtMS(v); }`)},
			SplitLine: splitLine()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true), Data: v.rowLabels(),
			AxisLabel: &opts.AxisLabel{Color: "#334155", Formatter: opts.FuncOpts(`function (v, i) { return AppStats.ganttLabel(i); }`)}}),
		charts.WithDataZoomOpts(zoom...),
	)
	data := make([]opts.CustomData, n)
	for i, r := range v.Rows {
		data[i] = opts.CustomData{Value: []any{i, r.StartMS, r.EndMS, r.SvcIdx, r.Flags, r.Index}}
	}
	c.AddSeries("Calls", data,
		charts.WithCustomChartOpts(opts.CustomChart{
			RenderItem: opts.FuncOpts(`function (params, api) { return AppStats.ganttItem(params, api); }`),
		}),
		charts.WithEncodeOpts(opts.Encode{X: []int{1, 2}, Y: 0}),
	)
	return c
}

// maxGanttVisible is how many rows the Gantt chart shows before it scrolls.
const maxGanttVisible = 40
