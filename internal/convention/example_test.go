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
