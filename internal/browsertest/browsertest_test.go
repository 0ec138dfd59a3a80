package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// collectTB records what Check reports instead of failing the test.
type collectTB struct {
	testing.TB
	errs []string
}

func (c *collectTB) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}
func (c *collectTB) Error(args ...any) { c.errs = append(c.errs, fmt.Sprint(args...)) }

func TestCheckReportsErrorsAndForeignRequests(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/clean":
			fmt.Fprint(w, `<!doctype html><title>clean</title><p id=x>ok</p>`)
		case "/dirty":
			fmt.Fprintf(w, `<!doctype html><title>dirty</title><img src="%s/pixel.png"><script>console.error("boom")</script><p id=x>ok</p>`, other.URL)
		}
	}))
	defer srv.Close()

	b := New(t, srv.URL, Options{})
	b.Navigate(t, "/clean")
	b.WaitFor(t, "the paragraph", `document.getElementById("x") !== null`, Patience)
	var clean collectTB
	clean.TB = t
	b.Check(&clean)
	if len(clean.errs) != 0 {
		t.Fatalf("a clean page reported %q", clean.errs)
	}

	b.Navigate(t, "/dirty")
	b.WaitFor(t, "the paragraph", `document.getElementById("x") !== null`, Patience)
	deadline := time.Now().Add(Patience)
	var dirty collectTB
	for {
		dirty = collectTB{TB: t}
		b.Check(&dirty)
		all := strings.Join(dirty.errs, "\n")
		if strings.Contains(all, "boom") && strings.Contains(all, other.URL) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Check did not report the console error and the foreign request: %q", dirty.errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
