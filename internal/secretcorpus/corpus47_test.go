package secretcorpus

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"

	"github.com/goappstats/appstats/recording"
)

// incoming47 sends round 47's secrets in incoming URLs: a URL with a
// password written as a query's name, unencoded and encoded.
func incoming47(c *corpus, get func(string, map[string]string)) {
	get("/go?redis://:"+c.secret("query name: a Redis URL's password", "qnameredis47")+"@cache/0=x", nil)
	get("/go?a=1&"+url.QueryEscape("postgres://bob:"+c.secret("query name, encoded: a Postgres URL's password", "qnamepg47")+"@db/x")+"=1", nil)
}

// calls47 makes round 47's calls from a handler: an HTTP call whose
// fragment's name is a URL with a password; errors holding a cleaned
// "scheme:/" URL at their start, secret names percent-encoded before a
// blank, blanks around "=" and ":", a Redis command that failed as
// go-redis writes it, curl's "-u"; attributes and an SQL argument holding
// JSON name/value pairs, a list, JSON quoted twice, Ruby's and PHP's
// pairs, and Redis commands.
func calls47(ctx context.Context, c *corpus, client *http.Client, base string, lite *sql.DB) {
	do := func(raw string) {
		req, err := http.NewRequestWithContext(ctx, "GET", raw, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	do(base + "/cb#h2://:" + c.secret("outgoing fragment: a URL as a name", "fragname47") + "@h/=#u://:" +
		c.secret("outgoing fragment: a URL in the name's value", "fragvalue47") + "@h/")

	fail := func(msg string) { recording.StartCall(ctx, "api", "Get").End(errors.New(msg)) }
	fail("redis:/:" + c.secret("error: a cleaned scheme:/ URL at the start", "cleanedpw47") + "@cache//r//")
	fail("bad body: password%3A " + c.secret("error: an encoded name before a blank", "encnamepw47"))
	fail("401 for Authorization%3A%20Bearer " + c.secret("error: an encoded Authorization scheme before a blank", "encbearerletters"))
	fail("login failed: user=bob password= " + c.secret("error: a blank after =", "spacedeqpw47") + " host=db")
	fail("mot de passe incorrect, password : " + c.secret("error: a blank before :", "spacedcolonpw47"))
	fail("auth " + c.secret("error: go-redis' failed auth", "goredisauth47") + ": WRONGPASS invalid username-password pair")
	fail("exec: curl -u bob:" + c.secret("error: curl's -u", "curluserpw47") + " https://h/ exited 22")
	fail("password : too short")
	c.readable("error: prose after a secret name and a blank before its colon", "password : too short")

	call := recording.StartCall(ctx, "config", "Load")
	call.SetAttr("k8s.env", `[{"name":"DB_PASSWORD","value":"`+c.secret("attribute: a Kubernetes env pair", "k8senvpw47")+`"},{"name":"DB_HOST","value":"db"}]`)
	call.SetAttr("body", `{"creds":["bob","`+c.secret("attribute: a list's second string", "credslist47")+`"]}`)
	call.SetAttr("ruby", `{:user=>"bob", :password=>"`+c.secret("attribute: a Ruby hash", "rubyhashpw47")+`"}`)
	call.SetAttr("xml", `<entry key="password">`+c.secret("attribute: an XML entry named by its key", "xmlentrypw47")+`</entry>`)
	call.SetAttr("redis.cmd", "HSET user:1 name bob password "+c.secret("attribute: a Redis HSET field's value", "hsetpw47"))
	call.SetAttr("redis.config", "CONFIG SET requirepass "+c.secret("attribute: CONFIG SET requirepass", "requirepass47"))
	call.SetAttr("redis.acl", "ACL SETUSER bob on >"+c.secret("attribute: ACL SETUSER's password", "aclpw47")+" ~* +@all")
	call.SetAttr("k8s.plain", `{"name":"DB_HOST","value":"db47host"}`)
	call.End(nil)
	c.readable("attribute: a pair naming no secret", `db47host`)

	// An SQL argument holding a JSON body that holds JSON (quoted again
	// by the argument's text): \\\"token\\\":\\\"…\\\".
	if _, err := lite.ExecContext(ctx, "UPDATE users SET name = ? WHERE id = 0",
		`{"data":"{\"token\":\"`+c.secret("SQL argument: JSON quoted twice", "sqljsontwice47")+`\"}"}`); err != nil {
		return
	}
}
