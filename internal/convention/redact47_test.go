package convention_test

import (
	"net/url"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestQueryKeyURLUserInfo checks a URL written as a query's or a
// fragment's name, not its value ("#h2://:pw@h/=#u://:pw@h/", a fragment
// a client built from a URL without encoding it): round 46 found its
// password kept, in a text, by URL and by Query, as a parameter's name is
// not read. A name that nests (a URL, a text) is read as a value is.
func TestQueryKeyURLUserInfo(t *testing.T) {
	const R = convention.Redacted
	r := defaultRules()
	for _, tt := range []struct{ in, want string }{
		{"https://x/#h2://:pw@h/=#u://:pw@h/", "https://x/#h2://" + R + "@h/=" + R},
		{"https://x/#h2://:s3cretpw@h/=1", "https://x/#h2://" + R + "@h/=1"},
		{"https://x/?next://bob:s3cretpw@h/=1&a=b", "https://x/?next://" + R + "@h/=1&a=b"},
		{"https://x/?a=1&" + url.QueryEscape("redis://:s3cretpw@h/0") + "=x", "https://x/?a=1&redis%3A%2F%2F" + R + "%40h%2F0=x"},
		// Unchanged: names with no user information.
		{"https://x/?https://h/cb=1&a[b]=2", "https://x/?https://h/cb=1&a[b]=2"},
		{"https://x/#/users/42=edit", "https://x/#/users/42=edit"},
	} {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.URL(u); got != tt.want {
			t.Errorf("URL(%s)\n = %s\nwant %s", tt.in, got, tt.want)
		}
		if got := r.Text(tt.in); got != tt.want {
			t.Errorf("Text(%s)\n = %s\nwant %s", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"h2://:pw@h/=#u://:pw@h/", "h2://" + R + "@h/=" + R},
		{"a=1&redis://:s3cretpw@h/0=x", "a=1&redis://" + R + "@h/0=x"},
	} {
		if got := r.Query(tt.in); got != tt.want {
			t.Errorf("Query(%s)\n = %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// TestTextCleanedSchemeAtStart checks a URL whose "//" a server cleaned to
// "/" ("redis:/:pw@h//r//") at the start of a text or after a blank, as a
// route's parameter or a log writes it: round 46 found its password kept,
// as the cleaned form was read only after a path's "/".
func TestTextCleanedSchemeAtStart(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"redis:/:pw@h//r//", "redis:/" + R + "@h//r//"},
		{"redis:/:s3cretpw@cache", "redis:/" + R + "@cache"},
		{"dial redis:/:s3cretpw@cache failed", "dial redis:/" + R + "@cache failed"},
		{`target "amqp:/guest:s3cretpw@mq/vh"`, `target "amqp:/` + R + `@mq/vh"`},
		// Unchanged: an "@" right after ":/" is a path's, and a path
		// without one.
		{"npm:/@scope/pkg", "npm:/@scope/pkg"},
		{"file:/home/bob/notes", "file:/home/bob/notes"},
	})
}

// TestTextPercentEncodedName checks a secret name written percent-encoded
// with its ":" ("password%3A", "Authorization%3A%20Bearer") before an
// unencoded blank and its value, as a text encoded in part, or a query
// value holding one, reads: round 46 found the value kept, as the encoded
// word was decoded alone and what followed the blank was not read as its
// value.
func TestTextPercentEncodedName(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"password%3A hunter2", "password%3A " + R},
		{"log password%3a hunter2", "log password%3a " + R},
		{"Authorization%3A Bearer abcdefghijk", "Authorization%3A Bearer " + R},
		{"Authorization%3A%20Bearer abcdefghijk", "Authorization%3A%20Bearer " + R},
		{"X-Api-Key%3A k3y-abc123 sent", "X-Api-Key%3A " + R}, // a header line, to its end
		{"https://h/cb?q=password%3A hunter2", "https://h/cb?q=password%3A " + R},
		{"GET https://h/cb?q=Authorization%3A%20Bearer abcdefghijk", "GET https://h/cb?q=Authorization%3A%20Bearer " + R},
		// Unchanged: prose after an encoded name, and a name that is not
		// secret.
		{"password%3A too short", "password%3A too short"},
		{"note%3A see the docs", "note%3A see the docs"},
		{"https://h/cb?q=note%3A see the docs", "https://h/cb?q=note%3A see the docs"},
	})
}

// TestTextSpacedSeparators checks a secret name's value after a separator
// written with a blank where the scan wanted none: "password= hunter2"
// (a form or a shell line with a blank after "="), "password : hunter2"
// (French typography's blank before ":"), and "password%3D hunter2", its
// name encoded. Round 47 found each kept; an empty value followed by the
// next pair ("password= user=bob") hides nothing.
func TestTextSpacedSeparators(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"password= hunter22", "password= " + R},
		{"login failed: user=bob password= hunter22 host=db", "login failed: user=bob password= " + R + " host=db"},
		{"password : hunter22", "password : " + R},
		{"mot de passe incorrect, token : abc123def", "mot de passe incorrect, token : " + R},
		{"password%3D hunter22", "password%3D " + R},
		// Unchanged: an empty value, prose, a count.
		{"password= user=bob", "password= user=bob"},
		{"password : too short", "password : too short"},
		{"tokens= 5", "tokens= 5"},
		{"tokens%3D 5", "tokens%3D 5"},
	})
}

// TestTextNameValuePairs checks a pair that names a secret and gives its
// value apart, as a Kubernetes container's environment, a form's fields
// or a list of tags write it: {"name":"DB_PASSWORD","value":"…"} in JSON
// (quoted again by %q too), {Name:DB_PASSWORD Value:…} as fmt prints a
// corev1.EnvVar. Round 47 found the value kept: "value" is no secret name.
func TestTextNameValuePairs(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{`[{"name":"DB_PASSWORD","value":"hunter22"},{"name":"DB_HOST","value":"db"}]`,
			`[{"name":"DB_PASSWORD","value":"` + R + `"},{"name":"DB_HOST","value":"db"}]`},
		{`{"Key": "api_key", "Value": "k3yabc123"}`, `{"Key": "api_key", "Value": "` + R + `"}`},
		{`env: "[{\"name\":\"API_TOKEN\",\"value\":\"abc123def\"}]"`, `env: "[{\"name\":\"API_TOKEN\",\"value\":\"` + R + `\"}]"`},
		{"env [{Name:DB_PASSWORD Value:hunter22 ValueFrom:nil} {Name:DB_HOST Value:db ValueFrom:nil}]",
			"env [{Name:DB_PASSWORD Value:" + R + " ValueFrom:nil} {Name:DB_HOST Value:db ValueFrom:nil}]"},
		// Unchanged: a pair that names no secret, a count, a null.
		{`{"name":"page","value":"2"}`, `{"name":"page","value":"2"}`},
		{`{"name":"tokens","value":"5"}`, `{"name":"tokens","value":"5"}`},
		{`{"name":"password","value":null}`, `{"name":"password","value":null}`},
	})
}

// TestTextQuotedJSONAndLists checks JSON quoted twice (a JSON string held
// in a JSON body, as an SQL argument's text quotes it again:
// \\\"token\\\":\\\"…\\\"), a secret name's list quoted again
// (\"password\":[\"…\"]), and a list of more than one string given to a
// secret name ({"creds":["bob","hunter2"]}): round 47 found each kept, or
// all but the first string. The list is hidden whole, its brackets and
// outer quotes kept.
func TestTextQuotedJSONAndLists(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{`"{\"data\":\"{\\\"token\\\":\\\"abc123def\\\"}\"}"`, `"{\"data\":\"{\\\"token\\\":\\\"` + R + `\\\"}\"}"`},
		{`"{\"password\":[\"hunter22\"]}"`, `"{\"password\":[\"` + R + `\"]}"`},
		{`{"creds":["bob","hunter22"],"n":1}`, `{"creds":["` + R + `"],"n":1}`},
		{`"{\"creds\":[\"bob\",\"hunter22\"]}"`, `"{\"creds\":[\"` + R + `\"]}"`},
		{`http.Header{"Cookie":[]string{"a=1", "sid=abc123def"}}`, `http.Header{"Cookie":[]string{"` + R + `"}}`},
		// Unchanged: lists and JSON quoted twice that name no secret.
		{`{"roles":["admin","ops"]}`, `{"roles":["admin","ops"]}`},
		{`"{\"data\":\"{\\\"page\\\":\\\"2\\\"}\"}"`, `"{\"data\":\"{\\\"page\\\":\\\"2\\\"}\"}"`},
	})
}

// TestTextRedisArgs checks the secrets of Redis commands besides AUTH's,
// as a log, an error or MONITOR quotes a command: a hash's field named
// secret (HSET k password …), CONFIG SET requirepass|masterauth …,
// MIGRATE's AUTH2 <user> <password>, ACL SETUSER's ">password" and
// "#<hash>", AUTH in MONITOR's quotes, and "auth <password>: <error>" as
// go-redis writes a command that failed (lower case). Round 47 found each
// kept. Fields that name no secret, a key's name and prose stay.
func TestTextRedisArgs(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"HSET user:1 name bob password hunter22 age 3", "HSET user:1 name bob password " + R + " age 3"},
		{"hset user:1 api_token abc123def", "hset user:1 api_token " + R},
		{"HSET user:1 data {\"password\":\"hunter22\"} name bob", "HSET user:1 data {\"password\":\"" + R + "\"} name bob"},
		{"HSET session:abc123def user bob", "HSET session:" + R + " user bob"},
		{"CONFIG SET requirepass hunter22", "CONFIG SET requirepass " + R},
		{"config set masterauth hunter22", "config set masterauth " + R},
		{"MIGRATE h 6379 k 0 5000 AUTH2 bob hunter22 KEYS k", "MIGRATE h 6379 k 0 5000 AUTH2 bob " + R + " KEYS k"},
		{"ACL SETUSER bob on >hunter22 ~* +@all", "ACL SETUSER bob on >" + R + " ~* +@all"},
		{`1700000000.123456 [0 127.0.0.1:5000] "AUTH" "bob" "hunter22"`, `1700000000.123456 [0 127.0.0.1:5000] "AUTH" "` + R + `" "` + R + `"`},
		{`1700000000.123456 [0 127.0.0.1:5000] "HSET" "u:1" "password" "hunter22"`, `1700000000.123456 [0 127.0.0.1:5000] "HSET" "u:1" "password" "` + R + `"`},
		{"auth hunter22: WRONGPASS invalid username-password pair", "auth " + R + ": WRONGPASS invalid username-password pair"},
		// Unchanged.
		{"hset user:1 name bob page 2 tokens 5", "hset user:1 name bob page 2 tokens 5"},
		{"ACL SETUSER bob on nopass ~* +@all", "ACL SETUSER bob on nopass ~* +@all"},
		{"auth failed: check the server", "auth failed: check the server"},
		{"see the HSET docs; the requirepass is set", "see the HSET docs; the requirepass is set"},
	})
}

// TestTextOtherLanguagesAndTools checks forms round 47's attack found
// kept: a value encoded twice in a text ("token%253D…"), the pairs of
// Ruby, PHP and Perl ("password => …", {:password=>"…"}, print_r's
// "[password] => …"), Python's b'…' and u'…' strings, an XML element
// named by its key or name attribute (<entry key="password">…</entry>),
// and curl's "-u user:password".
func TestTextOtherLanguagesAndTools(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"token%253Dabc123def", "token%253D" + R},
		{"see password%253Dhunter22 here", "see password%253D" + R + " here"},
		{`password => "hunter22"`, `password => "` + R + `"`},
		{`{:user=>"bob", :password=>"hunter22"}`, `{:user=>"bob", :password=>"` + R + `"}`},
		{"Array\n(\n    [user] => bob\n    [password] => hunter22\n)", "Array\n(\n    [user] => bob\n    [password] => " + R + "\n)"},
		{`{'password': b'hunter22'}`, `{'password': b'` + R + `'}`},
		{`{'password': u'hunter22'}`, `{'password': u'` + R + `'}`},
		{`<entry key="password">hunter22</entry>`, `<entry key="password">` + R + `</entry>`},
		{`<property name="db.password">hunter22</property>`, `<property name="db.password">` + R + `</property>`},
		{"curl -u bob:hunter22 https://h/", "curl -u bob:" + R + " https://h/"},
		{"curl --user bob:hunter22 https://h/", "curl --user bob:" + R + " https://h/"},
		// Unchanged.
		{"docker run -u 1000:1000 img", "docker run -u 1000:1000 img"},
		{"x => y", "x => y"},
		{`<entry key="page">2</entry>`, `<entry key="page">2</entry>`},
		{"mysql -u root db", "mysql -u root db"},
	})
}

// TestQueryNothingToHideAllocs checks that a query and a text with nothing
// to hide allocate nothing, now that a parameter's name is read too: the
// first reading of names wrote each pair again, hidden or not (a text
// holding a URL: 1 allocation; BenchmarkQueryNothingToHide: 3 allocs/op).
func TestQueryNothingToHideAllocs(t *testing.T) {
	r := defaultRules()
	if n := testing.AllocsPerRun(100, func() { r.Query("q=golang&page=2&sort=desc") }); n != 0 {
		t.Errorf("Query with nothing to hide: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { r.Text("GET http://127.0.0.1:8080/items/12?page=2") }); n != 0 {
		t.Errorf("Text with nothing to hide: %v allocations, want 0", n)
	}
}
