package convention_test

import (
	"fmt"
	"net/url"

	"github.com/goappstats/appstats/internal/convention"
)

// The same request gets the same name whichever wrapper records it: the
// transport names it from the request's URL, the OpenTelemetry bridge from a
// span's url.full or its server.address, server.port and url.path.
func Example() {
	u, _ := url.Parse("https://API.example.com:443/users/42/orders?token=abc")
	fmt.Println(convention.HTTPURLCallName("GET", u))
	fmt.Println(convention.HTTPCallName("GET", "api.example.com", "443", "/users/42/orders"))
	fmt.Println(convention.NewHTTPCall("GET", u, convention.NewRules([]string{"token"}, false)).Request)

	fmt.Println(convention.GRPCCallName("", "/grpc.health.v1.Health/Check"))
	fmt.Println(convention.GRPCCallName("grpc.health.v1.Health", "Check"))
	fmt.Println(convention.SplitGRPCMethod("/grpc.health.v1.Health/Check"))
	svc, method := convention.SplitGRPCMethod("Check") // no slash: a method of no service
	fmt.Printf("%q %q\n", svc, method)
	// Output:
	// GET api.example.com/users/{id}/orders
	// GET api.example.com/users/{id}/orders
	// GET https://API.example.com:443/users/42/orders?token=[REDACTED]
	// /grpc.health.v1.Health/Check
	// /grpc.health.v1.Health/Check
	// grpc.health.v1.Health Check
	// "" "Check"
}

// A client calling a backend's few URLs again and again names each call
// from the cache; the texts are those HTTPURLCallName and NewHTTPCall give.
func ExampleHTTPCalls() {
	rules := convention.NewRules([]string{"token"}, false)
	var calls convention.HTTPCalls[*convention.Rules]
	for range 3 {
		u, _ := url.Parse("http://127.0.0.1:8080/item/7?q=1")
		name, call := calls.Get("GET", u, rules)
		fmt.Println(name, "|", call.Request)
	}
	// Output:
	// GET 127.0.0.1:8080/item/{id} | GET http://127.0.0.1:8080/item/7?q=1
	// GET 127.0.0.1:8080/item/{id} | GET http://127.0.0.1:8080/item/7?q=1
	// GET 127.0.0.1:8080/item/{id} | GET http://127.0.0.1:8080/item/7?q=1
}
