package recording

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestKeptUserAgentByPlace hands pooled records, request after request,
// header maps of a few names drawn at random (User-Agent among them or
// not, with a value new each time, one or two of them, within the caps or
// over), and checks KeptHeader's answer for User-Agent and for Accept
// against the map: the one SetHeaders notes by its place when it finds the
// names of the record's last request (hdrUA), and the one it looks for
// otherwise, also after SetHeaders is called again with other names; and
// KeptUserAgent's, which is KeptHeader's when the place was found and ""
// and false when not. The place is taken on most requests.
func TestKeptUserAgentByPlace(t *testing.T) {
	r := New(WithSinks(borrowingSink{func(*Record) {}}), WithMaxHeaders(64, 4096), WithBatch(1, time.Millisecond))
	defer r.Close(t.Context())
	rng := rand.New(rand.NewPCG(1, 2))
	byPlace := 0
	const n = 300
	for i := range n {
		h := map[string][]string{"Accept": {"*/*"}}
		ua := ""
		switch rng.IntN(24) {
		case 0: // none
		case 1:
			ua = "two/1"
			h["User-Agent"] = []string{ua, "second"}
		case 2:
			h["User-Agent"] = []string{string(make([]byte, 65))} // over the value's cap
		default:
			ua = string([]byte("agent/" + string(rune('a'+rng.IntN(3)))))
			h["User-Agent"] = []string{ua}
		}
		if rng.IntN(24) == 0 {
			h["X-Other"] = []string{"1"}
		}
		_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/ua"})
		ar.SetHeaders(h)
		if ar.r.hdrUA != 0 {
			byPlace++
			if i%10 == 0 {
				// Set again, with other names: the place found
				// for the first map is not the second's.
				ua = "again"
				h = map[string][]string{"Accept": {"*/*"}, "B": {"b"}, "User-Agent": {ua}}
				ar.SetHeaders(h)
			}
		}
		got, ok := ar.KeptHeader("User-Agent")
		if want := ua != ""; ok != want || got != ua {
			t.Fatalf("%d: headers %q: KeptHeader(User-Agent) = %q, %v; want %q, %v", i, h, got, ok, ua, want)
		}
		// KeptUserAgent: KeptHeader's answer when the place was
		// found, else "" and false.
		if got, ok := ar.KeptUserAgent(); ok != (ar.r.hdrUA != 0) || ok && got != ua || !ok && got != "" {
			t.Fatalf("%d: headers %q (place %d): KeptUserAgent() = %q, %v; want %q", i, h, ar.r.hdrUA, got, ok, ua)
		}
		if got, ok := ar.KeptHeader("Accept"); !ok || got != "*/*" {
			t.Fatalf("%d: headers %q: KeptHeader(Accept) = %q, %v", i, h, got, ok)
		}
		ar.Finish()
		time.Sleep(200 * time.Microsecond) // mostly one record a batch: records reused
	}
	t.Logf("by place: %d of %d", byPlace, n)
	if byPlace < n/4 {
		t.Errorf("User-Agent found by its place in %d records of %d; want most", byPlace, n)
	}
	var nilAR *ActiveRecord
	if v, ok := nilAR.KeptUserAgent(); v != "" || ok {
		t.Errorf("nil ActiveRecord: KeptUserAgent() = %q, %v", v, ok)
	}
}
