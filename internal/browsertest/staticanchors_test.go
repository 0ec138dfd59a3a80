package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// staticAnchors finds an element the way getElementById does: not in a
// <template>'s content (a document fragment of its own, nested templates
// too) nor in <noscript> (text to a browser that runs scripts); the
// <template> element itself, and what follows it, are found.
func TestStaticAnchorsSkipTemplateAndNoscript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title>
<p id=top>top</p>
<template id=tpl><div id=in-tpl><template><i id=in-nested></i></template><b id=in-tpl-after></b></div></template>
<noscript><p id=in-noscript>no</p></noscript>
<a name=named>n</a><p id=after>after</p>`)
	}))
	defer srv.Close()
	for _, c := range []struct {
		frag string
		want bool
	}{
		{"top", true}, {"tpl", true}, {"named", true}, {"after", true},
		{"in-tpl", false}, {"in-nested", false}, {"in-tpl-after", false}, {"in-noscript", false},
	} {
		if got := staticAnchors(t, srv.URL, []anchor{{from: srv.URL, frag: c.frag}}); got != c.want {
			t.Errorf("#%s: found %v, want %v", c.frag, got, c.want)
		}
	}
}
