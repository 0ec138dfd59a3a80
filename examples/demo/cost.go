package main

import (
	"strconv"

	"github.com/goappstats/appstats/recording"
)

// The demo's cost model: what each call would cost if the shop's
// dependencies were billed like a cloud provider's APIs, in US dollars.
// The prices are examples, not any provider's list.
//
// A model is a function from a finished call to a price: it reads what
// the call carries — service and method, sizes, attributes — and returns
// a number in the model's unit. It runs off the request path, on the
// recorder's background goroutine.
var demoCost = recording.CostModel{Unit: "USD", Price: priceCall}

// Prices in USD.
const (
	pricePerAPICall     = 0.40 / 1e6 // an HTTP API request
	pricePerGBOut       = 0.09       // data received over HTTP, per GB
	pricePerQuery       = 0.25 / 1e6 // a database query (read or write unit)
	pricePerRPC         = 0.50 / 1e6 // a gRPC call
	pricePerCacheOp     = 0.05 / 1e6 // a cache get or set
	pricePerInputToken  = 3.0 / 1e6  // a language model's prompt token
	pricePerOutputToken = 15.0 / 1e6 // a language model's completion token
)

// priceCall prices one call of the demo.
func priceCall(c *recording.Call) float64 {
	switch c.Service {
	case "http":
		p := pricePerAPICall
		if c.ResponseSize > 0 {
			p += float64(c.ResponseSize) / 1e9 * pricePerGBOut
		}
		return p
	case "sql":
		return pricePerQuery // one unit per statement
	case "grpc":
		return pricePerRPC
	case "cache":
		return pricePerCacheOp
	case "llm":
		// Token counts, as OpenTelemetry's gen_ai conventions name them.
		in, _ := strconv.Atoi(c.Attr("gen_ai.usage.input_tokens"))
		out, _ := strconv.Atoi(c.Attr("gen_ai.usage.output_tokens"))
		return float64(in)*pricePerInputToken + float64(out)*pricePerOutputToken
	}
	return 0 // the shop's own work, DNS and sockets: free
}
