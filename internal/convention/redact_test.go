package convention_test

import (
	"net/url"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

var secretParams = []string{"token", "password", "key", "sig"}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "access_TOKEN": true, "X-Api-Key": true, "apikey": true, "Password": true,
		"q": false, "page": false, "": false, "ſig": false,
	} {
		if got := convention.SecretName(name, secretParams); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
	if convention.SecretName("token", nil) {
		t.Error("SecretName with no params hides a name")
	}
}

func TestRedactQuery(t *testing.T) {
	const r = "%5BREDACTED%5D" // convention.Redacted, query-escaped
	tests := []struct{ in, want string }{
		{"", ""},
		{"q=1&page=2", "q=1&page=2"},
		{"token=abc", "token=" + r},
		{"q=1&access_token=abc&page=2", "q=1&access_token=" + r + "&page=2"},
		{"q=1;token=abc", "q=1;token=" + r}, // ";" separates too
		{"Token=abc&KEY=x", "Token=" + r + "&KEY=" + r},
		{"tok%65n=abc", "tok%65n=" + r}, // an escaped name is unescaped to be judged
		{"api+key=abc", "api+key=" + r},
		{"token", "token"}, // no value, nothing to hide
		{"token=", "token=" + r},
		{"q=1&", "q=1&"},
		{"%zz=1&token=2", "%zz=1&token=" + r}, // a name that does not unescape is judged as it is
	}
	for _, tt := range tests {
		if got := convention.RedactQuery(tt.in, secretParams); got != tt.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := convention.RedactQuery("token=abc", nil); got != "token=abc" {
		t.Errorf("RedactQuery with no params = %q", got)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example.com/x?q=1", "https://api.example.com/x?q=1"},
		{"https://user:pw@api.example.com/x", "https://api.example.com/x"},
		{"https://api.example.com/x?sig=abc&q=1", "https://api.example.com/x?sig=%5BREDACTED%5D&q=1"},
		{"http://u@[::1]:8080/x?password=p", "http://[::1]:8080/x?password=%5BREDACTED%5D"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := convention.RedactURL(u, secretParams); got != tt.want {
			t.Errorf("RedactURL(%s) = %q, want %q", tt.in, got, tt.want)
		}
		if u.String() != tt.in {
			t.Errorf("RedactURL changed its URL to %s", u)
		}
	}
}

func BenchmarkRedactQueryNothingToHide(b *testing.B) {
	params := []string{"token", "password", "passwd", "pwd", "secret", "key", "auth", "session", "signature"}
	b.ReportAllocs()
	for b.Loop() {
		convention.RedactQuery("q=golang&page=2&sort=desc", params)
	}
}
