package convention_test

import (
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestTextWholeValues checks that a secret name's value written
// "name=value" without quotes is hidden whole when it runs over spaces
// ("password=two words"), to the next pair or the end of its clause, not
// only its first word; a query string's value, which holds no space, stays
// one word, and a count stays.
func TestTextWholeValues(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"password=two words", "password=" + R},
		{"password=correct horse battery staple", "password=" + R},
		{"password=two words user=bob", "password=" + R + " user=bob"},
		{"login failed: token=abc def, retrying", "login failed: token=" + R + ", retrying"},
		{"secret=two words; host=h", "secret=" + R + "; host=h"},
		{"password=two words\nhost=h", "password=" + R + "\nhost=h"},
		{"(password=two words)", "(password=" + R + ")"},
		{"GET /cb?token=abc HTTP/1.1", "GET /cb?token=" + R + " HTTP/1.1"},
		{"a=1&token=abc HTTP/1.1", "a=1&token=" + R + " HTTP/1.1"},
		{"password=two words. Retrying", "password=" + R + ". Retrying"},
		{"password=v1.2 words", "password=" + R},
		// A clause over maxConnValue (128) bytes: hidden to its last word
		// within them.
		{"password=two " + strings.Repeat("words ", 30) + "end", "password=" + R + strings.Repeat(" words", 9) + " end"},
		{"Authorization=Bearer abc123def then retried", "Authorization=" + R + " then retried"},
		{"tokens=5 left", "tokens=5 left"},
		{"password=<nil> for bob", "password=<nil> for bob"},
	})
}

// TestTextFullwidthSeparators checks "name=value" and "name: value"
// written with Unicode's look-alikes of "=" and ":" (fullwidth "＝" and
// "：", small "﹦" and "﹕"): the value is hidden and the text keeps its
// own separators; such a separator in prose stays.
func TestTextFullwidthSeparators(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"ｔｏｋｅｎ：x", "ｔｏｋｅｎ：" + R},
		{"token：abc", "token：" + R},
		{"password＝x", "password＝" + R},
		{"password＝hunter2 user=bob", "password＝" + R + " user=bob"},
		{"ｐａｓｓｗｏｒｄ＝hunter2，user＝bob", "ｐａｓｓｗｏｒｄ＝" + R + "，user＝bob"},
		{"error：password﹦swordfish", "error：password﹦" + R},
		{"api_key﹕ abc123def", "api_key﹕ " + R},
		{"エラー：接続に失敗しました", "エラー：接続に失敗しました"},
		{"user＝bob", "user＝bob"},
	})
}

// TestTextUnnamedStructsTied checks structs printed with %v (their
// fields' names gone) against the rule that a value is hidden only when
// tied to a secret: after a secret name or a login word, a struct is
// hidden whole, nested structs too ("login {bob {hunter2 x}}"); alone, or
// after a login word when it reads as a status ({200 OK}), it stays, as
// its shape alone ({web server01}) cannot tell a password from a host.
func TestTextUnnamedStructsTied(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"login {bob {hunter2 x}}: denied", "login {" + R + "}: denied"},
		{"password={bob {hunter2 x}}", "password={" + R + "}"},
		{"invalid credentials: &{bob &{hunter2 x} [admin]}", "invalid credentials: &{" + R + "}"},
		{"{bob {hunter2 x}}", "{bob {hunter2 x}}"},
		{"got {bob {hunter2 x}} from cache", "got {bob {hunter2 x}} from cache"},
		{"{web server01}", "{web server01}"},
		{"&{web server01 8080}", "&{web server01 8080}"},
		{"login {200 OK}", "login {200 OK}"},
		{"login {401 Unauthorized}: retry", "login {401 Unauthorized}: retry"},
		{"login {bob hunter2}: denied", "login {" + R + "}: denied"},
		{"connecting with {admin {P@ssw0rd! x}} to db", "connecting with {" + R + "} to db"},
	})
}
