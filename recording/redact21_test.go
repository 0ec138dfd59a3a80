package recording_test

import (
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestPanicStructNamesItsSecrets checks a struct given to panic: it is
// written with its fields' names ({User:bob Password:hunter2}), as %+v
// does, so that redaction ties its secret to the name Password and hides
// it, where %v's {bob hunter2} leaves nothing to tie it to (a value shaped
// so is hidden by no guess: {web server01} is a host).
func TestPanicStructNamesItsSecrets(t *testing.T) {
	type inner struct{ Password, Note string }
	type login struct {
		User    string
		Account inner
	}
	type creds struct {
		User string
		Cred inner
	}
	r := recording.DefaultRedaction()
	for _, tc := range []struct {
		v    any
		want string
	}{
		{login{"bob", inner{"hunter2", "x"}}, "{User:bob Account:{Password:" + recording.Redacted + " Note:x}}"},
		{&login{"bob", inner{"hunter2", "x"}}, "&{User:bob Account:{Password:" + recording.Redacted + " Note:x}}"},
		// A secret name's value is hidden whole, a struct too.
		{creds{"bob", inner{"hunter2", "x"}}, "{User:bob Cred:{" + recording.Redacted + "}}"},
		{struct{ Host, Name string }{"web", "server01"}, "{Host:web Name:server01}"},
	} {
		if got := r.Text(recording.PanicString(tc.v)); got != tc.want {
			t.Errorf("Text(PanicString(%#v)) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestRedactionTextTied checks Redaction.Text on what task 21 asked of
// it: a secret name's value hidden whole and after fullwidth separators;
// structs without their fields' names hidden only when something ties
// them to a secret.
func TestRedactionTextTied(t *testing.T) {
	const R = recording.Redacted
	r := recording.DefaultRedaction()
	for in, want := range map[string]string{
		"password=two words":              "password=" + R,
		"ｔｏｋｅｎ：x":                         "ｔｏｋｅｎ：" + R,
		"password＝x":                      "password＝" + R,
		"login {bob {hunter2 x}}: denied": "login {" + R + "}: denied",
		"{bob {hunter2 x}}":               "{bob {hunter2 x}}",
		"{web server01}":                  "{web server01}",
		"login {200 OK}":                  "login {200 OK}",
	} {
		if got := r.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}
