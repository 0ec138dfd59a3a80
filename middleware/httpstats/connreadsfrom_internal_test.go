package httpstats

import (
	"net/http"
	"testing"
)

// countWriter is a ResponseWriter whose pointer is to no struct.
type countWriter int

func (*countWriter) Header() http.Header           { return http.Header{} }
func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }
func (*countWriter) WriteHeader(int)               {}

// connWriter is a ResponseWriter with a conn field, as net/http's has,
// that points to no struct.
type connWriter struct {
	countWriter
	conn *int
}

// TestConnReadsFromNotStruct checks that connReadsFrom answers true
// (ReadFrom's way before it looked), not panics, for a writer that is a
// pointer to no struct, or whose conn field points to none: reflect's
// FieldByName panics on a value that is no struct.
func TestConnReadsFromNotStruct(t *testing.T) {
	n := 0
	for _, w := range []http.ResponseWriter{new(countWriter), &connWriter{conn: &n}} {
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("%T: connReadsFrom panics: %v", w, v)
				}
			}()
			if !connReadsFrom(w) {
				t.Errorf("%T: connReadsFrom false, want true", w)
			}
		}()
	}
}
