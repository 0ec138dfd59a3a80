package ssestats_test

import (
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/goappstats/appstats/middleware/ssestats"
)

// TestCommentLineBreaks checks that a comment whose text holds line breaks
// of any of the three kinds the event stream format knows (CRLF, LF and a
// lone CR) is written as comment lines only, which clients ignore: no part
// of it can be read as a field, such as a "data:" line that would make an
// event.
func TestCommentLineBreaks(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/events", nil)
	s, err := ssestats.New(w, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"a\rdata: injected", "b\r\ndata: injected", "c\ndata: injected", "d\r", "\re"} {
		if err := s.Comment(text); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// The lines as a client splits them.
	for _, line := range regexp.MustCompile("\r\n|\r|\n").Split(w.Body.String(), -1) {
		if line != "" && line[0] != ':' {
			t.Errorf("a line that is not a comment: %q (body %q)", line, w.Body.String())
		}
	}
}
