package convention_test

import (
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// textCase is an input of Rules.Text and what it must give.
type textCase struct{ in, want string }

// checkTexts checks Rules.Text on each case, and that Text and Error read
// what they gave again the same.
func checkTexts(t *testing.T, r *convention.Rules, tests []textCase) {
	t.Helper()
	for _, tt := range tests {
		got := r.Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
		if again := r.Text(got); again != got {
			t.Errorf("Text(Text(%q)) = %q, want %q", tt.in, again, got)
		}
		if e := r.Error(tt.in); r.Error(e) != e {
			t.Errorf("Error is not idempotent on %q: %q, then %q", tt.in, e, r.Error(e))
		}
	}
}

// TestTextUnnamedStructs checks structs fmt printed with %v, which drops
// their fields' names ({bob hunter2}): hidden after a secret name or a
// login word in their clause, or when a value is shaped as a password
// (letters, digits and signs); ordinary %v output stays.
func TestTextUnnamedStructs(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		// The whole text (a panic(creds), an error made of %v alone) was
		// hidden when a value mixed letters and digits; nothing ties such
		// a value to a secret, and a host's name is shaped so ({web
		// server01}): it stays (TestTextUnnamedStructsTied).
		{"{bob hunter2}", "{bob hunter2}"},
		{"&{bob hunter2 admin}", "&{bob hunter2 admin}"},
		// In a clause that names a credential or a login.
		{"login {bob hunter2}: denied", "login {" + R + "}: denied"},
		{"invalid credentials: {bob swordfish}", "invalid credentials: {" + R + "}"},
		{"auth failed for &{bob swordfish admin} at 10:00", "auth failed for &{" + R + "} at 10:00"},
		{"bad creds {bob swordfish}, retrying", "bad creds {" + R + "}, retrying"},
		{"signin {alice letmein [admin ops]}", "signin {" + R + "}"},
		// After a secret name.
		{"password={bob hunter2}", "password={" + R + "}"},
		{"creds={bob swordfish}", "creds={" + R + "}"},
		{"password: {bob swordfish}", "password: {" + R + "}"},
		{"password=[bob swordfish] ok", "password=[" + R + "] ok"},
		// Shaped as a password (letters, digits and signs): anywhere.
		{"connecting with {admin P@ssw0rd!} to db", "connecting with {" + R + "} to db"},
		// Ordinary %v output, a struct with names, nothing in it.
		{"{200 OK}", "{200 OK}"},
		{"{1 2 3}", "{1 2 3}"},
		{"{node1 Ready}", "{node1 Ready}"},
		{"{bob admin}", "{bob admin}"},
		{"user {bob 42} created", "user {bob 42} created"},
		{"got {bob hunter2} from cache", "got {bob hunter2} from cache"},
		{"{linux x86_64}", "{linux x86_64}"},
		{"{GET /v1/users}", "{GET /v1/users}"},
		{"{us-east-1 prod}", "{us-east-1 prod}"},
		{"&{0xc000123 5}", "&{0xc000123 5}"},
		{"{deadbeef12 7}", "{deadbeef12 7}"},
		{"{2024-01-02 10:00:00 +0000 UTC}", "{2024-01-02 10:00:00 +0000 UTC}"},
		{"login {1 2 3}: denied", "login {1 2 3}: denied"},
		{"login {}: denied", "login {}: denied"},
		{"{User:bob Age:3}", "{User:bob Age:3}"},
		{"login {" + R + "}: denied", "login {" + R + "}: denied"},
		// A card in a struct of numbers: hidden alone, and the struct, now
		// holding a word, is not judged again.
		{"login {1 2 4111111111111111}", "login {1 2 " + R + "}"},
	})
}

// TestTextTypedPasswords checks the secrets people choose and type,
// which are words too: after "password: ", "passwd: ", "secret: " (YAML,
// logs) and in Redis' AUTH, a plain word is hidden unless it is a word of
// prose ("too short", "not found", "AUTH failed").
func TestTextTypedPasswords(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"password: hunter", "password: " + R},
		{"passwd: hunter", "passwd: " + R},
		{"secret: swordfish", "secret: " + R},
		{"login failed, password: Swordfish rejected", "login failed, password: " + R + " rejected"},
		{"db_password: changeme", "db_password: " + R},
		{"ClientSecret: swordfish", "ClientSecret: " + R},
		{"cvv: 123", "cvv: " + R},
		{"pin: 42", "pin: " + R},
		// YAML: the value runs to the end of its line.
		{"db:\n  user: bob\n  password: correct horse battery staple\n  host: h", "db:\n  user: bob\n  password: " + R + "\n  host: h"},
		{"password: correct horse", "password: " + R},
		{`config "user: bob\npassword: correct horse\nhost: h"`, `config "user: bob\npassword: ` + R + `\nhost: h"`},
		// Redis AUTH, with a password that is a word.
		{"AUTH hunter", "AUTH " + R},
		{"AUTH swordfish failed", "AUTH " + R + " failed"},
		{"ERR AUTH default swordfish", "ERR AUTH " + R},
		{"redis: AUTH bob hunter: WRONGPASS", "redis: AUTH " + R + ": WRONGPASS"},
		// Prose.
		{"password: too short", "password: too short"},
		{"password: must be at least 8 characters", "password: must be at least 8 characters"},
		{"Password: Required", "Password: Required"},
		{"secret: not found", "secret: not found"},
		{"passphrase: incorrect", "passphrase: incorrect"},
		{"password: crypto/bcrypt: hashedPassword is not the hash", "password: crypto/bcrypt: hashedPassword is not the hash"},
		{"token: expired", "token: expired"},
		{"auth: failed", "auth: failed"},
		{"AUTH failed", "AUTH failed"},
		{"AUTH required", "AUTH required"},
		{"Basic AUTH required", "Basic AUTH required"},
		{"redis: AUTH called without any password configured", "redis: AUTH called without any password configured"},
		{"AUTH <password> called", "AUTH <password> called"},
	})
}

// TestSecretNameSpellings checks the other spellings of secret names:
// other cases and separators, abbreviations, and Unicode's look-alikes of
// ASCII letters, folded to them (fullwidth forms, a soft hyphen or a
// zero-width space inside, Cyrillic letters drawn as Latin ones).
func TestSecretNameSpellings(t *testing.T) {
	r := defaultRules()
	for _, n := range []string{
		"PASSWORD", "Pass_Word", "pass-word", "pwd", "passphrase", "api-key", "x-api-key", "private_key",
		"client-secret", "creds", "db.creds",
		"ｐａｓｓｗｏｒｄ", "ＡＰＩ＿ＫＥＹ", "pass\u00adword", "pass\u200bword", "\ufeffpassword", "x-ａｐｉ-key",
		"р\u0430ssword", // Cyrillic р and а
		"ТОКЕN",         // Cyrillic Т, О, К, Е
	} {
		if !r.SecretName(n) {
			t.Errorf("SecretName(%q) = false, want true", n)
		}
	}
	for _, n := range []string{"café", "naïve", "ｋｅｙｗｏｒｄ", "author\u00ad", "Пароль", "credit", "incredible", "монета"} {
		if r.SecretName(n) {
			t.Errorf("SecretName(%q) = true, want false", n)
		}
	}
	const R = convention.Redacted
	checkTexts(t, r, []textCase{
		{"ｐａｓｓｗｏｒｄ=hunter2", "ｐａｓｓｗｏｒｄ=" + R},
		{"pass\u00adword=hunter2, ok", "pass\u00adword=" + R + ", ok"},
		{"{Pass\u00adword:hunter2}", "{Pass\u00adword:" + R + "}"},
		{"pass\u00adword: swordfish", "pass\u00adword: " + R},
		{"р\u0430ssword=hunter2", "р\u0430ssword=" + R},
		{"café=crème", "café=crème"},
	})
	// Folding allocates nothing.
	if n := testing.AllocsPerRun(100, func() { r.SecretName("ｐａｓｓｗｏｒｄ") }); n != 0 {
		t.Errorf("SecretName of a fullwidth name allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { r.Text("café=crème naïve=1") }); n != 0 {
		t.Errorf("Text of names with accents, nothing to hide, allocates %v times", n)
	}
}

// TestTextConnectStrings checks the connection strings of databases and
// brokers: Oracle's user/password@db, JDBC URLs, URLs of other schemes,
// ODBC and ADO.NET strings whose values hold spaces or braces.
func TestTextConnectStrings(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"scott/tiger@orcl", "scott/" + R + "@orcl"},
		{"sqlplus scott/tiger@orcl failed", "sqlplus scott/" + R + "@orcl failed"},
		{`dsn="scott/tig$er#1@orcl"`, `dsn="scott/` + R + `@orcl"`},
		{`dsn="scott/tig$er#1@db.example:1521/svc"`, `dsn="scott/` + R + `:1521/svc"`}, // "1@db.example" reads as an e-mail address
		{"jdbc:oracle:thin:scott/tiger@host:1521/x", "jdbc:oracle:thin:scott/" + R + "@host:1521/x"},
		{"jdbc:oracle:thin:scott/tiger@//host:1521/svc", "jdbc:oracle:thin:scott/" + R + "@//host:1521/svc"},
		{"scott/tiger@10.0.0.5:1521/orcl", "scott/" + R + "@10.0.0.5:1521/orcl"},
		{"scott/tiger@(DESCRIPTION=(ADDRESS=(HOST=h)))", "scott/" + R + "@(DESCRIPTION=(ADDRESS=(HOST=h)))"},
		{"jdbc:mysql://h/db?user=u&password=p", "jdbc:mysql://h/db?user=u&password=" + R},
		{"jdbc:sqlserver://h:1433;databaseName=db;user=sa;password=hunter2;", "jdbc:sqlserver://h:1433;databaseName=db;user=sa;password=" + R + ";"},
		{"jdbc:postgresql://h/db?user=u&password=p&ssl=true", "jdbc:postgresql://h/db?user=u&password=" + R + "&ssl=true"},
		{"sqlserver://u:p@h:1433?database=x", "sqlserver://" + R + "@h:1433?database=x"},
		{"mongodb+srv://u:p@cluster0.example.net/db", "mongodb+srv://" + R + "@cluster0.example.net/db"},
		{"amqp://u:p@h:5672/vhost", "amqp://" + R + "@h:5672/vhost"},
		{"smtp://u:p@mail.example:587", "smtp://" + R + "@mail.example:587"},
		{"Driver={ODBC Driver 18};Server=h;Uid=sa;Pwd=hunter2;", "Driver={ODBC Driver 18};Server=h;Uid=sa;Pwd=" + R + ";"},
		{"Server=h;User ID=sa;Password=correct horse;Encrypt=true", "Server=h;User ID=sa;Password=" + R + ";Encrypt=true"},
		{"Password=correct horse; Server=h", "Password=" + R + "; Server=h"},
		{"Server=h;Password=correct horse", "Server=h;Password=" + R},
		{"Server=h;Pwd={pa}}ss;w rd};Encrypt=true", "Server=h;Pwd={" + R + "};Encrypt=true"},
		// Not connection strings.
		{"golang.org/x/net@v0.30.0", "golang.org/x/net@v0.30.0"},
		{"github.com/goappstats/appstats@v1.2.3", "github.com/goappstats/appstats@v1.2.3"},
		{"uses: actions/checkout@v4", "uses: actions/checkout@v4"},
		{"docker pull library/nginx@sha256:0123abcd", "docker pull library/nginx@sha256:0123abcd"},
		{"npm i @types/node@20.1.0 react/dom@18", "npm i @types/node@20.1.0 react/dom@18"},
		{"see docs/readme@main", "see docs/readme@main"},
		{"GET /users/bob/x@y", "GET /users/bob/x@y"},
		{"A/0:0@A", "A/0:" + R + "@A"}, // user:password@host's rule first (FuzzRedact)
		{"A://0:A/)@A", "A://0:A/)@A"}, // a URL that ends at ")" (FuzzRedact)
		{"mail team/bob@example.com", "mail team/" + R},
		{"password=hunter2, then retried", "password=" + R + ", then retried"},
		// Unquoted, a value runs over spaces to its clause's end: a secret
		// name's value is hidden whole (TestTextWholeValues).
		{"password=hunter2 then retried", "password=" + R},
		{"a=1; b=2 c; d=3", "a=1; b=2 c; d=3"},
	})
}

// TestTextCounts checks that a number counting secret things stays (the
// plural of a secret word, or "count" after one), and that a value under
// such a name that is no count — a card number, a code with a leading
// zero, a token — is hidden.
func TestTextCounts(t *testing.T) {
	const R = convention.Redacted
	r := defaultRules()
	checkTexts(t, r, []textCase{
		{"api.tokens=12 max_tokens=100 token_count=7 sessions=3", "api.tokens=12 max_tokens=100 token_count=7 sessions=3"},
		{"gen_ai.usage.input_tokens=128000", "gen_ai.usage.input_tokens=128000"},
		{"cards=4111111111111111", "cards=" + R},
		{"otps=012345", "otps=" + R},
		{"tokens=sk_live_4eC39HqLyjWDarjtT1zdp7dc", "tokens=" + R},
		{"token=123456", "token=" + R},
	})
	for name, want := range map[string]bool{
		"tokens": true, "api.tokens": true, "gen_ai.usage.output_tokens": true, "token_count": true,
		"tokenCount": true, "tokens_total": true, "sessions": true,
		"token": false, "tokens_used": false, "count": false, "page_count": false, "": false,
	} {
		if got := r.CountName(name); got != want {
			t.Errorf("CountName(%q) = %v, want %v", name, got, want)
		}
	}
	for v, want := range map[string]bool{"0": true, "12": true, "999999999": true, "1000000000": false,
		"012": false, "": false, "1e3": false, "-1": false} {
		if got := convention.IsCountValue(v); got != want {
			t.Errorf("IsCountValue(%q) = %v, want %v", v, got, want)
		}
	}
	if q := r.Query("tokens=12&cards=4111111111111111&otps=012345"); q != "tokens=12&cards="+R+"&otps="+R {
		t.Errorf("Query: %q", q)
	}
	var none *convention.Rules
	if none.CountName("tokens") {
		t.Error("nil rules count")
	}
}

// TestTextCardRun checks a run of groups of digits longer than a card
// whose first groups are one, and so is a later group: both are hidden at
// once, so that Text reads its output again the same (FuzzRedact found
// the run; main hid the later card first, and the first groups only when
// read again).
func TestTextCardRun(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"20 000220000000 20002200000000", R + " " + R},
		{"order 12 4111111111111111", "order 12 " + R},
		{"ids 2024 0101 1234 5678 9012 3456 7", "ids 2024 0101 1234 5678 9012 3456 7"},
	})
}

// TestErrorEmptyQuotesAfterMarker checks an empty quoted fragment after a
// value Text hides (token=!"", and with single quotes): read again, its
// first quote follows the marker and opens nothing, and nor must the
// second (FuzzRedact found it, on main too: the second quote opened a
// fragment running to the end).
func TestErrorEmptyQuotesAfterMarker(t *testing.T) {
	const R = convention.Redacted
	r := defaultRules()
	for in, want := range map[string]string{
		"token=!'' ":           "token=" + R + "'' ",
		`token=!"" next "x"`:   "token=" + R + `"" next "` + R + `"`,
		"token=0\"0000000":     "token=" + R + "\"0000000",
		"token=!'abc' then 'x": "token=" + R + "'" + R + "' then '" + R,
		// A percent-encoded "user:password@" before the quotes: Text
		// writes its "@" encoded, "%40" (FuzzRedact, on main too).
		"0%3A0@\"\" ":  "0%3A" + R + "%40\"\" ",
		"a%20'secret'": "a%20'" + R + "'",
		// The escape of a letter ("%D7", which Text writes for a byte
		// that is no UTF-8) is part of a word, as the byte was.
		"0%3A0%40\xd7\"0": "0%3A" + R + "%40%D7\"0",
	} {
		got := r.Error(in)
		if got != want {
			t.Errorf("Error(%q) = %q, want %q", in, got, want)
		}
		if again := r.Error(got); again != got {
			t.Errorf("Error(Error(%q)) = %q, want %q", in, again, got)
		}
	}
}
