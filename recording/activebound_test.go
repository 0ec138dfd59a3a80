package recording_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestActiveRedactionBounded: listing the records in the making redacts a
// bounded number of bytes of their paths, however long they are. On main
// Active redacted every listed record's whole path: 300 requests held open
// with paths of 400 KB each cost the redaction of 120 MB on every refresh
// of the dashboard, which then trimmed them to its budget. A path too long
// for what is left of the listing's budget is shown as "…" — never cut
// before its redaction, which could split a secret and let its kept part
// through — and each listed path is capped, as a finished record's is,
// after its redaction.
func TestActiveRedactionBounded(t *testing.T) {
	const (
		records = 300
		pathLen = 400 << 10
		secret  = "9fQ2xLr8ZpT4vWm1KsY7bNc3HdJ6gAe5" // a random-looking token
	)
	red := recording.DefaultRedaction()
	if got := red.Text("/t/" + secret); strings.Contains(got, secret) {
		t.Fatalf("the token is no secret to the default redaction: %q", got)
	}
	rec := recording.New(recording.WithSinks(discard))
	// Closed without a deadline, after the records are finished: each
	// finished record's path is redacted whole before it is capped, 120 MB
	// for the 300, which took Close past closeRec's 30 s on a loaded
	// machine under -race ("close: context deadline exceeded", the test
	// 37 s); the work is bounded, and what is tested is Active's.
	defer func() {
		if err := rec.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	// Each path holds the secret in the part a view shows and at its end.
	seg := "/a" + strings.Repeat("b", 60)
	body := strings.Repeat(seg, (pathLen-2*len(secret))/len(seg))
	path := "/t/" + secret + body + "/" + secret
	var ars []*recording.ActiveRecord
	for range records {
		// A copy of its own for each request, as a server gives it.
		p := strings.Clone(path)
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: p})
		ars = append(ars, ar)
	}
	defer func() {
		for _, ar := range ars {
			ar.Finish()
		}
	}()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	recs, unlisted := rec.Active(0, 0)
	runtime.ReadMemStats(&after)
	if len(recs) != records || unlisted != 0 {
		t.Fatalf("Active: %d records, %d unlisted; want %d, 0", len(recs), unlisted, records)
	}
	// Redacting a path that holds a secret makes a copy of it: the bytes
	// allocated bound the bytes redacted. Main allocated 120 MB here.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("Active allocated %d MB for %d records with paths of %d KB: want at most 8 MB", alloc>>20, records, pathLen>>10)
	}
	shown, elided := 0, 0
	for i := range recs {
		p := recs[i].Path
		if strings.Contains(p, secret) {
			t.Fatalf("record %d: path %.80q… holds the secret", i, p)
		}
		switch {
		case p == "…":
			elided++
		case strings.HasPrefix(p, "/t/"):
			shown++
			if len(p) > recording.DefaultMaxText+32 {
				t.Errorf("record %d: path of %d bytes, want it capped at about %d", i, len(p), recording.DefaultMaxText)
			}
		default:
			t.Errorf("record %d: path %.80q…, want the redacted path or …", i, p)
		}
	}
	if shown == 0 || elided == 0 {
		t.Errorf("%d paths shown, %d elided: want some of each", shown, elided)
	}
	// One record asked for by its ID is redacted whole.
	one, ok := rec.ActiveRecord(recs[records-1].ID)
	if !ok || !strings.HasPrefix(one.Path, "/t/") || strings.Contains(one.Path, secret) {
		t.Errorf("ActiveRecord: %v, path %.80q…", ok, one.Path)
	}
}

// TestActiveSecretAtCap: a secret across the text cap of a listed path
// ([recording.DefaultMaxText]) is hidden whole, in Active and in
// ActiveRecord: the path is redacted before it is capped, where a cut
// first would leave the secret's first part, no longer looking like one.
func TestActiveSecretAtCap(t *testing.T) {
	const secret = "9fQ2xLr8ZpT4vWm1KsY7bNc3HdJ6gAe5"
	rec := recording.New(recording.WithSinks(discard))
	defer closeRec(t, rec)
	pre := "/t" + strings.Repeat("/abcdefgh", (recording.DefaultMaxText-32)/9)
	pre += strings.Repeat("x", recording.DefaultMaxText-16-len(pre)) + "/"
	path := pre + secret + "/tail"
	if i := strings.Index(path, secret); i >= recording.DefaultMaxText || i+len(secret) <= recording.DefaultMaxText {
		t.Fatalf("the secret spans %d–%d, not the cap %d", i, i+len(secret), recording.DefaultMaxText)
	}
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: path})
	defer ar.Finish()
	recs, _ := rec.Active(0, 0)
	if len(recs) != 1 {
		t.Fatalf("Active listed %d records, want 1", len(recs))
	}
	one, ok := rec.ActiveRecord(recs[0].ID)
	if !ok {
		t.Fatal("ActiveRecord: not listed")
	}
	for name, p := range map[string]string{"Active": recs[0].Path, "ActiveRecord": one.Path} {
		if strings.Contains(p, secret[:8]) {
			t.Errorf("%s's path holds part of the secret: …%q", name, p[max(0, len(p)-60):])
		}
		if !strings.Contains(p, "REDACTED") {
			t.Errorf("%s's path shows no redaction: …%q", name, p[max(0, len(p)-60):])
		}
	}
}
