package convention_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

func defaultRules() *convention.Rules {
	return convention.NewRules(convention.DefaultSecretWords(), true)
}

func TestSecretName(t *testing.T) {
	r := defaultRules()
	secret := []string{
		"password", "Password", "PASSWORD", "user_password", "pass", "X-Pass", "pw", "pwd", "passwd",
		"passphrase", "pin", "PIN", "pin2", "private", "private_key", "ssn", ":ssn", "email", "user.email",
		"credit_card", "creditCard", "CreditCardNumber", "credit-card", "cc", "cc_number", "cvv", "card",
		"token", "access_token", "accessToken", "AccessToken", "csrftoken", "X-Csrf-Token", "tokens",
		"api_key", "apiKey", "APIKey", "X-Api-Key", "apikey", "X-APIKey", "api key", "XAPIKey", "aws_access_key_id",
		"secret", "client_secret", "clientSecret", "auth", "X-Auth-Token", "Authorization", "Proxy-Authorization",
		"credential", "credentials", "session", "session_id", "sessionid", "JSESSIONID", "PHPSESSID", "sessions",
		"cookie", "Set-Cookie", "signature", "sig", "X-Hub-Signature-256", "jwt", "otp", "X-Bearer", "bearer",
		"X-Client-Cert", "cert", "certificate", "db.query.parameter.password", "oauth_token",
	}
	visible := []string{
		":authority", "authority", "author", "authors", "keyword", "keywords", "monkey", "design", "designer",
		"country_code", "key1", "key", "q", "page", "sort", "spin", "pinned", "passenger", "compass", "bypass",
		"discard", "scorecard", "cardinality", "tokenizer", "secretary", "user-agent", "Accept", "content-type",
		"x-request-id", "traceparent", "grpc-timeout", "signed", "", "_", "--", "status_code",
		"accept-encoding", "mailbox", "ccc", "sigma", "otpl",
	}
	for _, n := range secret {
		if !r.SecretName(n) {
			t.Errorf("SecretName(%q) = false, want true", n)
		}
	}
	for _, n := range visible {
		if r.SecretName(n) {
			t.Errorf("SecretName(%q) = true, want false", n)
		}
	}
	var none *convention.Rules
	if none.SecretName("token") || convention.NewRules(nil, true).SecretName("token") {
		t.Error("rules without words hide a name")
	}
	custom := convention.NewRules([]string{"Tenant ID", "x"}, false)
	if !custom.SecretName("tenant_id") || !custom.SecretName("tenantId") || !custom.SecretName("x") || custom.SecretName("tenant") {
		t.Error("custom words are not matched as words")
	}
}

func TestQuery(t *testing.T) {
	r := defaultRules()
	const R = convention.Redacted
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	tests := []struct{ in, want string }{
		{"", ""},
		{"q=1&page=2", "q=1&page=2"},
		{"token=abc", "token=" + R},
		{"q=1&access_token=abc&page=2", "q=1&access_token=" + R + "&page=2"},
		{"q=1;token=abc", "q=1;token=" + R},
		{"Token=abc&KEY=x", "Token=" + R + "&KEY=" + R},
		// A parameter named key is an API key (Google's ?key=…), whatever
		// its value looks like (32 hexadecimal digits read as a hash);
		// other names with the word key are not.
		{"key=9f86d081884c7d659a2feaa0c55ad015&key1=v&sort_key=name&keyword=go&monkey=1",
			"key=" + R + "&key1=v&sort_key=name&keyword=go&monkey=1"},
		{"tok%65n=abc", "tok%65n=" + R},
		{"api+key=abc", "api+key=" + R},
		{"token", "token"},
		{"token=", "token=" + R},
		{"q=1&", "q=1&"},
		{"%zz=1&token=2", "%zz=1&token=" + R},
		{"pass=a&pw=b&passphrase=c&pin=1234&private=x&ssn=1&email=a%40b.c&credit_card=4", "pass=" + R + "&pw=" + R +
			"&passphrase=" + R + "&pin=" + R + "&private=" + R + "&ssn=" + R + "&email=" + R + "&credit_card=" + R},
		{"keyword=go&author=ann&country_code=fr&design=flat&monkey=1", "keyword=go&author=ann&country_code=fr&design=flat&monkey=1"},
		{"u=" + jwt, "u=" + R},
		{"n=4111111111111111&id=42", "n=" + R + "&id=42"},
		{"id=550e8400-e29b-41d4-a716-446655440000", "id=550e8400-e29b-41d4-a716-446655440000"},
		{"u=http://user:PW@host/?token=abc", "u=http://" + R + "@host/?token=" + R},
		{"u=http%3A%2F%2Fuser%3APW%40host%2F%3Ftoken%3Dabc&x=1", "u=http%3A%2F%2F" + R + "%40host%2F%3Ftoken%3D" + R + "&x=1"},
		{"next=%2Freset%3Ftoken%3Dabc", "next=%2Freset%3Ftoken%3D" + R},
		{"token=" + R, "token=" + R},
		{jwt, R},
	}
	for _, tt := range tests {
		got := r.Query(tt.in)
		if got != tt.want {
			t.Errorf("Query(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := r.Query(got); again != got {
			t.Errorf("Query(Query(%q)) = %q, want %q", tt.in, again, got)
		}
		if strings.Contains(got, "%5BREDACTED") {
			t.Errorf("Query(%q) = %q: the marker is encoded", tt.in, got)
		}
	}
	var none *convention.Rules
	if none.Query("token=1") != "token=1" {
		t.Error("nil rules redacted")
	}
}

func TestURL(t *testing.T) {
	r := convention.NewRules([]string{"token", "password", "sig"}, true)
	const R = convention.Redacted
	tests := []struct{ in, want string }{
		{"https://api.example.com/x?q=1", "https://api.example.com/x?q=1"},
		{"https://user:pw@api.example.com/x", "https://" + R + "@api.example.com/x"},
		{"https://api.example.com/x?sig=abc&q=1", "https://api.example.com/x?sig=" + R + "&q=1"},
		{"http://u@[::1]:8080/x?password=p", "http://" + R + "@[::1]:8080/x?password=" + R},
		{"https://app.example/cb#access_token=abc&state=1", "https://app.example/cb#access_token=" + R + "&state=1"},
		{"https://h/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlXzEyMzQ1", "https://h/reset/" + R},
		{"https://h/users/42/orders/550e8400-e29b-41d4-a716-446655440000", "https://h/users/42/orders/550e8400-e29b-41d4-a716-446655440000"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.URL(u); got != tt.want {
			t.Errorf("URL(%s) = %q, want %q", tt.in, got, tt.want)
		}
		if u.String() != tt.in {
			t.Errorf("URL changed its URL to %s", u)
		}
	}
}

func TestText(t *testing.T) {
	r := defaultRules()
	const R = convention.Redacted
	tests := []struct{ in, want string }{
		{"", ""},
		{"GET http://127.0.0.1:8080/items/12", "GET http://127.0.0.1:8080/items/12"},
		{"/reset?token=abc123", "/reset?token=" + R},
		{"GET http://h/x?access_token=" + R + "&q=1", "GET http://h/x?access_token=" + R + "&q=1"},
		{"GET http://[::1]:8080/x?token=a&q=1", "GET http://[::1]:8080/x?token=" + R + "&q=1"},
		{"/go?u=http://user:PW@host/?token=xyz", "/go?u=http://" + R + "@host/?token=" + R},
		{"dial postgres://app:hunter2@db:5432/app failed", "dial postgres://" + R + "@db:5432/app failed"},
		{"app:hunter2@tcp(db:3306)/app", "app:" + R + "@tcp(db:3306)/app"},
		{`{"password":"hunter2","user":"ann"}`, `{"password":"` + R + `","user":"ann"}`},
		{`{"pin": 1234, "n": 2}`, `{"pin": ` + R + `, "n": 2}`},
		{`password:"hunter2" name:"x"`, `password:"` + R + `" name:"x"`},
		{"auth: failed", "auth: failed"},
		{"WHERE password=? AND token=$1", "WHERE password=? AND token=$1"},
		{"card 4111 1111 1111 1111 ok", "card " + R + " ok"},
		{"card 4111-1111-1111-1111", "card " + R},
		{"order 4111111111111112", "order 4111111111111112"}, // fails the Luhn check
		{"mail ann@example.com now", "mail " + R + " now"},
		{"ssn 123-45-6789", "ssn " + R},
		{"key sk_live_4eC39HqLyjWDarjtT1zdp7dc!", "key " + R + "!"},
		{"tok Zx81kQ2mP9vL3nR7tY5wB1cD", "tok " + R},
		{"id 550e8400-e29b-41d4-a716-446655440000 at 2024-01-02T10:00:00Z", "id 550e8400-e29b-41d4-a716-446655440000 at 2024-01-02T10:00:00Z"},
		{"XMLHttpRequestFactory getUserProfileSettings my-long-blog-post-title-2024", "XMLHttpRequestFactory getUserProfileSettings my-long-blog-post-title-2024"},
		{"sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{"basic dXNlcjpwYXNzd29yZDEyMzQ=", "basic " + R},
		{"version go1.26.8-linux-amd64 release-v1.2.3-rc4-build5 20241122T101500Z", "version go1.26.8-linux-amd64 release-v1.2.3-rc4-build5 20241122T101500Z"},
	}
	for _, tt := range tests {
		got := r.Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
		if again := r.Text(got); again != got {
			t.Errorf("Text(Text(%q)) = %q, want %q", tt.in, again, got)
		}
	}
	byName := convention.NewRules(convention.DefaultSecretWords(), false)
	if got := byName.Text("tok Zx81kQ2mP9vL3nR7tY5wB1cD token=x"); got != "tok Zx81kQ2mP9vL3nR7tY5wB1cD token="+R {
		t.Errorf("rules without values: %q", got)
	}
}

func TestScrubError(t *testing.T) {
	const R = convention.Redacted
	tests := []struct{ in, want string }{
		{`near "'SECOND_LIT'": syntax error`, `near "` + R + `": syntax error`},
		{`ERROR: syntax error at or near "'hunter2'" (SQLSTATE 42601)`, `ERROR: syntax error at or near "` + R + `" (SQLSTATE 42601)`},
		{"rpc error: code = NotFound desc = user 'bob' not found", "rpc error: code = NotFound desc = user '" + R + "' not found"},
		{"can't connect to O'Brien's server", "can't connect to O'Brien's server"},
		{"unterminated 'SECRET", "unterminated '" + R},
		{"value `x` rejected", "value `" + R + "` rejected"},
		{`it's "a ""quoted"" word" here`, `it's "` + R + `" here`},
		{`empty "" stays`, `empty "" stays`},
		{"no quotes", "no quotes"},
		// A quote right after the marker is inside the word the marker
		// stands for, as it was before Text hid it.
		{`token=` + R + `"0000000`, `token=` + R + `"0000000`},
		{`x ` + R + `'s "y"`, `x ` + R + `'s "` + R + `"`},
	}
	for _, tt := range tests {
		if got := convention.ScrubError(tt.in); got != tt.want {
			t.Errorf("ScrubError(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := convention.ScrubError(tt.want); got != tt.want {
			t.Errorf("ScrubError is not idempotent on %q: %q", tt.want, got)
		}
	}
}

func TestSecretValue(t *testing.T) {
	secret := []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "4111111111111111", "4111 1111 1111 1111",
		"5500-0000-0000-0004", "378282246310005", "123-45-6789", "ann@example.com", "a.b+c@mail.example.org",
		"ghp_16C7e42F292c6912E7710c838347Ae178B4a", "AKIAIOSFODNN7EXAMPLE", "Zx81kQ2mP9vL3nR7tY5wB1cD",
		"q8Vd2LkP0sXr7YwZ3nTbHc5JmGfA1eUiKo9NpQzR", "dGhpcyBpcyBhIHNlY3JldA==", "kXwQzRtYpLmNbVcXzQwErTyU",
		"Zx81kQ2mP9vL/3nR7tY5wB1cD+h7Pq0aLm3XyVb",
	}
	benign := []string{
		"", "42", "hello", "4111111111111112", "1732000000000", "12345678901234567", "550e8400-e29b-41d4-a716-446655440000",
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "2024-01-02", "postgres@localhost", "user@host", "@handle",
		"getUserProfileSettings", "ThisIsALongCamelCaseName", "internationalization", "my-long-blog-post-title-2024",
		"country_code_and_region", "XMLHttpRequestFactory", "v1.2.3-beta.4+build.567", "12-34-5678",
		"/usr/local/bin/appstats", "api/v1/users/12345/orders/a1b2c3", "v2/items/AB12CD34EF56/x", "/a1b2/c3d4",
	}
	for _, v := range secret {
		if !convention.SecretValue(v) {
			t.Errorf("SecretValue(%q) = false, want true", v)
		}
	}
	for _, v := range benign {
		if convention.SecretValue(v) {
			t.Errorf("SecretValue(%q) = true, want false", v)
		}
	}
}

func BenchmarkQueryNothingToHide(b *testing.B) {
	r := defaultRules()
	b.ReportAllocs()
	for b.Loop() {
		r.Query("q=golang&page=2&sort=desc")
	}
}

func BenchmarkTextNothingToHide(b *testing.B) {
	r := defaultRules()
	b.ReportAllocs()
	for b.Loop() {
		r.Text("GET http://127.0.0.1:8080/items/12?page=2")
	}
}

// FuzzRedact checks that redacting any text, query or error message never
// panics, is idempotent, and grows a text only by markers: each one
// replaces at least one byte.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"token=a&b=c", "http://u:p@h/?x=1#y", `"password": "x"`, "4111 1111 1111 1111",
		"a@b.co", "'unterminated", "x=%zz", "u=http%3A%2F%2Fu%3Ap%40h", "::=@@", "eyJa.eyJb.c",
		// Error was not idempotent: the marker left a quote after "]",
		// where it had been inside a word ("0\"").
		"token=0\"0000000", "{User:b Password:x y N:[1]}", "map[Cookie:[a=b]]", "Set-Cookie: a=b; c",
		`"{\"token\":\"x\"}"`, "--token x", "AUTH x1", "a%3Db", "redirect_uri=https://h&code=x1y2z3",
		"<pin>1</pin>", "a[pin]=1", "u:p$@h", "h://u:p/s@h/",
		// Round 20: structs without names, typed passwords, other
		// spellings, connection strings, counts.
		"{bob hunter2}", "login {a b}: x", "&{a P@ss1 b}", "password={a b}", "password: a b\nc: d", "AUTH a b: c",
		"ｐａｓｓ=1", "pass\u00adword=x", "scott/tiger@orcl", "a/b$c@//h:1/s", "Server=h;Password=a b;", "Pwd={a}}b};",
		"jdbc:sqlserver://h;password=x;", "tokens=12 cards=4111111111111111",
		// Round 47: URLs as query names, a cleaned scheme at the start,
		// encoded names before a blank, blanks around "=" and ":", pairs,
		// lists, JSON quoted twice, Redis commands, other languages.
		"h2://:pw@h/=#u://:pw@h/", "redis:/:pw@h//r//", "password%3A x", "Authorization%3A%20Bearer x", "password= x",
		"pin : x", `{"name":"pin","value":"x"}`, `{"pin":["a","b"]}`, `\\\"pin\\\":\\\"x`, "HSET k pin x", "ACL SETUSER u >x",
		`"AUTH" "x"`, "auth x: e", "pin%253Dx", ":pin=>\"x\"", "[pin] => x", "pin: b'x'", `<e key="pin">x</e>`, "curl -u a:x"} {
		f.Add(s)
	}
	r := defaultRules()
	f.Fuzz(func(t *testing.T, s string) {
		for name, fn := range map[string]func(string) string{"Text": r.Text, "Query": r.Query, "Error": r.Error} {
			out := fn(s)
			if len(out) > len(s)*len(convention.Redacted)+len(convention.Redacted) {
				t.Errorf("%s(%q) grew to %d bytes", name, s, len(out))
			}
			if again := fn(out); again != out && name != "Query" {
				t.Errorf("%s is not idempotent: %q -> %q -> %q", name, s, out, again)
			}
		}
	})
}

// TestTextAuthScheme checks that a credential written after its scheme,
// as an Authorization header's value is ("Bearer <token>", "Basic
// <base64>"), is hidden in a free text — an error message, a panic value, a
// header map printed by fmt — and not only the scheme's name, while the
// schemes' words in prose and a challenge's parameters stay readable.
func TestTextAuthScheme(t *testing.T) {
	r := defaultRules()
	const R = convention.Redacted
	tests := []struct{ in, want string }{
		// RFC 6750's and RFC 7617's examples: too short to look random.
		{"Authorization: Bearer mF_9.B5f-4.1JqM", "Authorization: Bearer " + R},
		{"authorization: bearer mF_9.B5f-4.1JqM rejected", "authorization: bearer " + R + " rejected"},
		{"Authorization: Basic QWxhZGRpbjpvcGVu", "Authorization: Basic " + R},
		{"token=Bearer mF_9.B5f-4.1JqM", "token=" + R},
		{"Authorization=Basic QWxhZGRpbjpvcGVu&x=1", "Authorization=" + R + "&x=1"},
		{"headers map[Accept:[*/*] Authorization:[Bearer abc123secretvalue]]", "headers map[Accept:[*/*] Authorization:[Bearer " + R + "]]"},
		{`curl -H "Authorization: Bearer mF_9.B5f-4.1JqM" https://api.example/`, `curl -H "Authorization: Bearer ` + R + `" https://api.example/`},
		{"rpc error: code = Unauthenticated desc = invalid Bearer 2YotnFZFEjr1zCsicMWpAA/x=", "rpc error: code = Unauthenticated desc = invalid Bearer " + R},
		// Prose and challenges stay as they are.
		{"Bearer token expired", "Bearer token expired"},
		{"basic auth failed", "basic auth failed"},
		{"Basic Auth is disabled", "Basic Auth is disabled"},
		{"Basic AUTH required", "Basic AUTH required"},
		{"SELECT basic FROM plans WHERE bearer IS NULL", "SELECT basic FROM plans WHERE bearer IS NULL"},
		{`WWW-Authenticate: Bearer realm="api", error="invalid_token"`, `WWW-Authenticate: Bearer realm="api", error="invalid_token"`},
		{"Bearer " + R, "Bearer " + R},
		// A tab, or more than one blank, after the scheme (review 40).
		{"Authorization: Bearer\tmF_9.B5f-4.1JqM", "Authorization: Bearer\t" + R},
		{"Authorization: Bearer  mF_9.B5f-4.1JqM", "Authorization: Bearer  " + R},
		{"invalid Basic\tQWxhZGRpbjpvcGVu", "invalid Basic\t" + R},
		{"headers map[Authorization:[Bearer\tabc123secretvalue]]", "headers map[Authorization:[Bearer\t" + R + "]]"},
		{"Authorization=Bearer\tmF_9.B5f-4.1JqM&x=1", "Authorization=" + R + "&x=1"},
		{"Bearer\ttoken expired", "Bearer\ttoken expired"},
	}
	for _, tt := range tests {
		got := r.Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
		if again := r.Text(got); again != got {
			t.Errorf("Text(Text(%q)) = %q, want %q", tt.in, again, got)
		}
	}
}

// TestTextCutURL checks a URL cut by a byte cap (convention.Truncate)
// before the "@" that ends its user information: what follows "user:" may
// be a password, and is hidden with the rest of the cut authority.
func TestTextCutURL(t *testing.T) {
	r := defaultRules()
	const R = convention.Redacted
	tests := []struct{ in, want string }{
		{convention.Truncate("upstream http://svc:hunter2hunter2@db.internal:5432/x", 30),
			"upstream http://" + R + "…[truncated 23 bytes]"},
		{convention.Truncate("see https://user:pw@h", 19), "see https://" + R + "…[truncated 2 bytes]"},
		// Cut before any ':' (a user name, or a host): nothing to hide.
		{convention.Truncate("upstream http://svc:hunter2@db", 19), "upstream http://svc…[truncated 11 bytes]"},
		// Cut after the "@": as any URL.
		{convention.Truncate("GET http://u:pw@h.example/items", 22), "GET http://" + R + "@h.exam…[truncated 9 bytes]"},
	}
	for _, tt := range tests {
		got := r.Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
		if again := r.Text(got); again != got {
			t.Errorf("Text(Text(%q)) = %q, want %q", tt.in, again, got)
		}
	}
}

// TestTextLeaks checks the secrets an operator found in recorded texts —
// error and panic messages, header lines, form bodies, command lines —
// each hidden, and read again the same.
func TestTextLeaks(t *testing.T) {
	r := defaultRules()
	const R = convention.Redacted
	tests := []struct{ in, want string }{
		// Structs and maps printed by fmt (%+v, %v): fields unquoted.
		{"bad config {User:bob Password:hunter2}", "bad config {User:bob Password:" + R + "}"},
		{"&{Token:abc Name:x}", "&{Token:" + R + " Name:x}"},
		{"map[password:hunter2 user:bob]", "map[password:" + R + " user:bob]"},
		{"{User:bob Password:correct horse battery Age:3}", "{User:bob Password:" + R + " Age:3}"},
		{"{Name:x Auth:{User:bob Pass:hunter2} N:1}", "{Name:x Auth:{" + R + "} N:1}"},
		{"map[Cookie:[sid=abc123; theme=dark] User-Agent:[x]]", "map[Cookie:[" + R + "] User-Agent:[x]]"},
		{"token:abc123 user:bob", "token:" + R + " user:bob"},
		// ...and with %#v, and JSON quoted again by %q.
		{`http.Header{"Cookie":[]string{"sid=abc123"}, "Accept":[]string{"*/*"}}`,
			`http.Header{"Cookie":[]string{"` + R + `"}, "Accept":[]string{"*/*"}}`},
		{`{"Cookie":["sid=abc123"],"Accept":["*/*"]}`, `{"Cookie":["` + R + `"],"Accept":["*/*"]}`},
		{`unexpected body: "{\"access_token\":\"abc123\",\"expires_in\":3600}"`,
			`unexpected body: "{\"access_token\":\"` + R + `\",\"expires_in\":3600}"`},
		// Header lines quoted in a text.
		{"bad header Cookie: sid=abc123; theme=dark", "bad header Cookie: " + R},
		{"Set-Cookie: sid=abc123; Path=/; HttpOnly\nVary: Accept", "Set-Cookie: " + R + "\nVary: Accept"},
		{`curl -H "Cookie: sid=abc123" https://h/`, `curl -H "Cookie: ` + R + `" https://h/`},
		{"X-Api-Key: abcd1234 rejected", "X-Api-Key: " + R},
		{"Authorization: token abc123def", "Authorization: token " + R},
		{"Proxy-Authorization: Digest7 abc123def", "Proxy-Authorization: " + R},
		// A credential that is more than one token68 run (AWS's
		// signature V2: key id, colon, signature), and a scheme that is
		// no plain word (Azure's SharedKey account:signature).
		{"Authorization: AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo rejected", "Authorization: AWS " + R + " rejected"},
		{"Authorization: SharedKey myaccount:ctzMq410TV3wS7upTBcunJTDLEJwMAZuFPfr0mrrA08=\nDate: x",
			"Authorization: " + R + "\nDate: x"},
		{"password: hunter2", "password: " + R},
		{"pin: 1234", "pin: " + R},
		// OAuth and SAML: authorization codes, assertions, a form whose
		// redirect_uri is not encoded.
		{"/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj", "/cb?code=" + R + "&state=af0ifjsldkj"},
		{"/cb?code=e72e16c7e42f292c6912&state=x", "/cb?code=" + R + "&state=x"},
		{"grant_type=authorization_code&code=4/P7q7W91&redirect_uri=https://app.example&client_secret=s3cr&refresh_token=rt1&id_token=it1",
			"grant_type=authorization_code&code=" + R + "&redirect_uri=https://app.example&client_secret=" + R + "&refresh_token=" + R + "&id_token=" + R},
		{"redirect_uri=https://app.example/cb&client_assertion=abc.def.ghi&code_verifier=dBjftJeZ4CVP",
			"redirect_uri=https://app.example/cb&client_assertion=" + R + "&code_verifier=" + R},
		{"SAMLResponse=PHNhbWxwOlJlc3BvbnNl&RelayState=x", "SAMLResponse=" + R + "&RelayState=x"},
		// Names and values apart, on command lines, in Redis commands,
		// percent-encoded.
		{"password = hunter2", "password = " + R},
		{"mysqld --password hunter2 --user root", "mysqld --password " + R + " --user root"},
		{"-api-key abc", "-api-key " + R},
		{"AUTH hunter2", "AUTH " + R},
		{"ERR AUTH default hunter2 failed", "ERR AUTH " + R + " failed"},
		{"bad pair password%3Dhunter2", "bad pair password%3D" + R},
		// An AWS secret access key: standard base64, with "/" and "+".
		{"key Zx81kQ2mP9vL/3nR7tY5wB1cD+h7Pq0aLm3XyVb end", "key " + R + " end"},
		// XML elements, form fields, a JSON null, an http.Request printed
		// with %+v, a private key.
		{"<user>bob</user><password>hunter2</password>", "<user>bob</user><password>" + R + "</password>"},
		{"user[password]=hunter2&user[name]=bob", "user[password]=" + R + "&user[name]=bob"},
		{`{"token":null,"password":"x"}`, `{"token":null,"password":"` + R + `"}`},
		{"&{Method:POST URL:/login?password=hunter2 Header:map[Authorization:[Basic dXNlcjpwYXNz] Cookie:[sid=abc123]] Form:map[password:[hunter2]]}",
			"&{Method:POST URL:/login?password=" + R + " Header:map[Authorization:[Basic " + R + "] Cookie:[" + R + "]] Form:map[password:[" + R + "]]}"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----",
			"-----BEGIN RSA PRIVATE KEY-----\n" + R + "\n" + R + "\n-----END RSA PRIVATE KEY-----"},
		// DSNs whose password holds what ends a word or an authority.
		{"dial u:pa$$word@tcp(h:3306)/db", "dial u:" + R + "@tcp(h:3306)/db"},
		{"u:p@ss@tcp(h)/db", "u:" + R + "@tcp(h)/db"},
		{"app:pa$$w@rd@tcp(db:3306)/", "app:" + R + "@tcp(db:3306)/"},
		{"[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "[default]\naws_secret_access_key = " + R + "\n"},
		{"postgres://u:p/ss@h/db", "postgres://" + R + "@h/db"},
		{"postgres://u:p#ss@h/db?sslmode=disable", "postgres://" + R + "@h/db?sslmode=disable"},
		{"redis://:hunter2@h:6379/0", "redis://" + R + "@h:6379/0"},
		{"Server=h;User Id=sa;Password=hunter2;Encrypt=true", "Server=h;User Id=sa;Password=" + R + ";Encrypt=true"},
		// Cut by a byte cap: what is left of a token, of a field's value.
		{convention.Truncate("tok Zx81kQ2mP9vL3nR7tY5wB1cDq8Vd2LkP0sXr7YwZ3nTbHc5JmGfA1eUiKo9NpQzR end", 40),
			"tok " + R + "…[truncated 32 bytes]"},
		{convention.Truncate("{User:bob Password:hunter2hunter2 Age:3}", 28), "{User:bob Password:" + R + "…[truncated 12 bytes]"},
		// A password holding a quote, and the quote after the marker.
		{"token=0\"0000000", "token=" + R + "\"0000000"},
	}
	for _, tt := range tests {
		got := r.Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
		if again := r.Text(got); again != got {
			t.Errorf("Text(Text(%q)) = %q, want %q", tt.in, again, got)
		}
		if again := r.Error(got); again != r.Error(tt.in) {
			t.Errorf("Error(%q) = %q, Error of that %q", tt.in, r.Error(tt.in), again)
		}
	}
}

// TestTextReadable checks that the words of prose and the names near the
// secret ones stay as they were: paths and words holding a secret word,
// counts of secret things, status codes, wrapped errors.
func TestTextReadable(t *testing.T) {
	r := defaultRules()
	for _, s := range []string{
		"GET /password_reset/done password_reset", "tokens=5 max_tokens=100 sessions=3",
		"token: expired", "auth: failed", "invalid token: 401 Unauthorized",
		"oauth2: cannot fetch token: 400 Bad Request", "cert: x509: certificate signed by unknown authority",
		"Authorization: Bearer token expired", "code=404", "code=FR", "code=NotFound",
		"rpc error: code = Unauthenticated desc = bad", "a == b", "x => y",
		"Basic AUTH required", "ERR AUTH failed", "docker login --password-stdin registry.example",
		"/api/v1/users/12345/orders internal/convention/redact_test.go github.com/goappstats/appstats/recording",
		"{User:bob Age:3 Roles:[admin ops]}", "map[author:ann keyword:go]", "&{Name:x Pinned:true}",
		"X-Request-Id: req-12345", "Accept: text/html; q=0.9", "src/main/java/com/example/MyClass1.java",
		"see api/v1/users/12345/orders/a1b2c3 now", "GET v2/items/AB12CD34EF56/x", "{ID:42 Token:<nil> Secret:{} Pin:[]}", "POST https://api.example/v1/tokens:revoke", "/v1/sessions:batchCreate", `{"token":null}`, "http://h:8080/users/@me", "h:8080/users/@me", "redis: AUTH <password> called without any password configured",
		"error: password authentication failed for user", "golang.org/x/net@v0.30.0",
		// Round 20: fmt's %v of ordinary structs, prose after a typed
		// secret's name and AUTH, versions and digests after "@", counts.
		"{200 OK}", "{1 2 3}", "&{node1 Ready}", "user {bob 42} created", "password: too short", "secret: not found",
		"AUTH required", "uses: actions/checkout@v4", "docker pull library/nginx@sha256:0123abcd",
		"api.tokens=12 token_count=7 gen_ai.usage.input_tokens=1200", "café=crème",
	} {
		if got := r.Text(s); got != s {
			t.Errorf("Text(%q) = %q, want it unchanged", s, got)
		}
	}
	if got := r.Query("tokens=5&max_tokens=100&password_reset=1"); got != "tokens=5&max_tokens=100&password_reset="+convention.Redacted {
		t.Errorf("Query: %q", got)
	}
}

// BenchmarkTextLong redacts long texts built to make a scan go back over
// what it read: each pattern repeated to 4 KiB, 256 KiB and 1 MiB.
// Redaction is linear when ns/op grows with the size, not with its square
// (compare the sizes' MB/s).
func BenchmarkTextLong(b *testing.B) {
	r := defaultRules()
	patterns := map[string]string{
		"fields":   "{a:[a:{a:",
		"struct":   "{User:bob Note:x y z ",
		"quotes":   `a=\"a:\"`,
		"flags":    "--tokenx -- ",
		"percent":  "a%3Da%3",
		"base64":   "Zx81kQ2m/",
		"header":   "X-A-Token: x1 ",
		"auth":     "AUTH AUTH ",
		"urls":     "http://h&a=b&",
		"cookie":   "Cookie: a=b; ",
		"prose":    "the request failed because the upstream closed the connection ",
		"password": "password: ",
		"group":    "login {a b1c2d3 ",
		"nested":   "{a {b [c ",
		"groups":   "user_name {a b} ",
		"oracle":   "a/b$c@d ",
		"conn":     ";password=a b c ",
		"typed":    "\n password: a b ",
		"redis":    "AUTH a b: ",
		"fold":     "ｐａｓｓ=",
		// Round 43: "word:" after "word:" before one MySQL DSN's
		// "@tcp(h)/" at the line's end (see tails).
		"dsn": "a:1 ",
		// Review 43: URLs each followed by a blank, whose search for a
		// password's "@" over it (and for a query's next "&key=") read
		// the rest of the line.
		"spaced": "p://a:b c ",
		"query":  "p://h?password=a b c ",
		// Round 44: passwords of digits and white space, before one
		// DSN's "@" at the line's end (digitsPassword), URLs whose
		// "user:digits" or ":password" is followed by white space.
		"digits":    "u:12 ",
		"clock":     "u:1:2 ",
		"portspace": "p://u:1 ",
		"emptyuser": "p://:a ",
		// Round 44: URLs in one another's path, each path scrubbed
		// as a text again (TestTextNestedURLsLinear).
		"nestedurls": "p://a@",
		// Round 46: a URL in another's query before a blank, each
		// searched for a spaced password (innerSpacedUserInfo) and its
		// last value read on as a text (lastValueGoesOn); fragments
		// and values encoded twice, decoded twice.
		"innerurl":  "https://h?q=p://:a ",
		"lastvalue": "https://h?q=a: ",
		"twice":     "https://h?n=%2525#%253A&",
		// Round 47: URLs as a query's names, nested in one another
		// ("?p://:a@h/=https://h/?p://…"); cleaned "scheme:/" URLs;
		// names encoded before a blank; blanks around "=" and ":";
		// name/value pairs; lists given to a secret name, left open;
		// JSON quoted twice.
		"keyurl":    "https://h/?p://:a@h/=",
		"cleaned":   "p:/:a@h ",
		"encname":   "password%3A a Authorization%3A%20Bearer a ",
		"spacedeq":  "password= a password : a ",
		"pairs":     `{"name":"password","value":"a"} "key":"token","value":[`,
		"lists":     `"password":["a",`,
		"escaped":   `\\\"token\\\":\\\"a`,
		"rediscmds": "HSET k password a ACL SETUSER b >c auth d: ",
		"langs":     "x%253Da password => a [password] => a key=\"password\">a curl -u a:b ",
	}
	tails := map[string]string{"innerurl": "b@h/x", "dsn": "u:p x@tcp(h)/d", "digits": "u:1 x@tcp(h)/d", "clock": "u:1 x@/d", "portspace": "x@h", "emptyuser": "x@h"}
	for name, p := range patterns {
		for _, size := range []int{4 << 10, 256 << 10, 1 << 20} {
			s := strings.Repeat(p, size/len(p)) + tails[name]
			b.Run(name+"/"+strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					r.Error(s)
				}
			})
		}
	}
}

// TestQueryKeyNeedsAPIKey: a query parameter named key is hidden by the
// rules that hide api_key only.
func TestQueryKeyNeedsAPIKey(t *testing.T) {
	if got := convention.NewRules([]string{"password"}, false).Query("key=abc&password=x"); got != "key=abc&password="+convention.Redacted {
		t.Errorf("without api_key: %q", got)
	}
	if got := convention.NewRules([]string{"api_key"}, false).Query("key=abc"); got != "key="+convention.Redacted {
		t.Errorf("with api_key: %q", got)
	}
}

// TestQuerySubscriptionKey: Azure API Management takes its subscription key
// in the query as subscription-key, hidden as key is (review 40).
func TestQuerySubscriptionKey(t *testing.T) {
	r := defaultRules()
	for in, want := range map[string]string{
		"subscription-key=hunter2value&x=1": "subscription-key=" + convention.Redacted + "&x=1",
		"Subscription-Key=abc":              "Subscription-Key=" + convention.Redacted,
		"subscription=basic&key_id=7":       "subscription=basic&key_id=7",
	} {
		if got := r.Query(in); got != want {
			t.Errorf("Query(%q) = %q, want %q", in, got, want)
		}
	}
	if got := convention.NewRules([]string{"password"}, false).Query("subscription-key=abc"); got != "subscription-key=abc" {
		t.Errorf("without api_key: %q", got)
	}
}

// TestTextHeaders: the headers a recorder hides whole (Redaction.Headers,
// given by WithHeaders) are secret names in texts too, whatever the words
// in their names (review 40: Azure's Ocp-Apim-Subscription-Key and
// X-Functions-Key leaked while X-Api-Key was hidden).
func TestTextHeaders(t *testing.T) {
	const R = convention.Redacted
	r := defaultRules().WithHeaders([]string{"Authorization", "Ocp-Apim-Subscription-Key", "X-Functions-Key"})
	tests := []struct{ in, want string }{
		{"Ocp-Apim-Subscription-Key: hunter2value", "Ocp-Apim-Subscription-Key: " + R},
		{"ocp-apim-subscription-key: hunter2value\nVary: Accept", "ocp-apim-subscription-key: " + R + "\nVary: Accept"},
		{`curl -H 'Ocp-Apim-Subscription-Key: hunter2value' https://h/`, `curl -H 'Ocp-Apim-Subscription-Key: ` + R + `' https://h/`},
		{"X-Functions-Key: hunter2value", "X-Functions-Key: " + R},
		{"headers map[Accept:[*/*] X-Functions-Key:[hunter2value]]", "headers map[Accept:[*/*] X-Functions-Key:[" + R + "]]"},
		{`{"Ocp-Apim-Subscription-Key":"hunter2value"}`, `{"Ocp-Apim-Subscription-Key":"` + R + `"}`},
		// Prose after the name stays, as after any secret name.
		{"X-Functions-Key: missing", "X-Functions-Key: missing"},
		{"X-Functions: hunter2value", "X-Functions: hunter2value"},
	}
	for _, tt := range tests {
		got := r.Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
		if again := r.Text(got); again != got {
			t.Errorf("Text(Text(%q)) = %q, want %q", tt.in, again, got)
		}
	}
	// Without the headers, the rules do not know them.
	if got := defaultRules().Text("X-Functions-Key: hunter2value"); got != "X-Functions-Key: hunter2value" {
		t.Errorf("without WithHeaders: %q", got)
	}
	if !r.For(convention.DefaultSecretWords(), true, []string{"Authorization", "Ocp-Apim-Subscription-Key", "X-Functions-Key"}) ||
		r.For(convention.DefaultSecretWords(), true, nil) {
		t.Error("For does not compare the headers")
	}
}
