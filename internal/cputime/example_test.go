package cputime_test

import (
	"fmt"

	"github.com/goappstats/appstats/internal/cputime"
)

func ExampleProcess() {
	before, ok := cputime.Process()
	sum := 0
	for i := range 1_000_000 {
		sum += i
	}
	after, _ := cputime.Process()
	fmt.Println(sum, !ok || after >= before)
	// Output: 499999500000 true
}
