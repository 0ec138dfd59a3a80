package convention_test

import (
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestTextTabsAndSpacedEquals checks a secret name's value written after
// a tab ("password:\thunter2", "password\t=\thunter2", as config dumps and
// tab-separated logs write them) and after " = ": hidden as after a space,
// and, after " = ", whole, as after "=" ("password = two words").
func TestTextTabsAndSpacedEquals(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"password:\thunter2", "password:\t" + R},
		{"password\t=\thunter2", "password\t=\t" + R},
		{"password =\thunter2 next", "password =\t" + R},
		{"password = two words here, next", "password = " + R + ", next"},
		{"client_secret = abc def ghi. Then more.", "client_secret = " + R + ". Then more."},
		{"password = two words user=bob", "password = " + R + " user=bob"},
		// Unchanged: prose, and a tab-separated table's columns.
		{"tokens\t=\t5", "tokens\t=\t5"},
		{"password\tchanged", "password\tchanged"},
		{"a == b\tc", "a == b\tc"},
	})
}

// TestTextBackslashInValue checks a secret name's value that holds a
// backslash, as a libpq connection string writes a space in a value
// ("password=hun\ ter2") or a value holds one ("password=a\b"): hidden
// whole, where a backslash used to end it; a backslash before a quote —
// an escaped quote that closes what holds the value — still ends it.
func TestTextBackslashInValue(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{`host=db password=hun\ ter2 dbname=shop`, `host=db password=` + R + ` dbname=shop`},
		{`password=hun\ter2`, `password=` + R},
		{`password=hunter2\`, `password=` + R + `\`},
		{`{"msg":"password=hunter2\" next"}`, `{"msg":"password=` + R + `\" next"}`},
		{`--password hun\ter2 -v`, `--password ` + R + ` -v`},
	})
}
