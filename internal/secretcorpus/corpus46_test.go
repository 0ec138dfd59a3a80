package secretcorpus

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"

	"github.com/goappstats/appstats/recording"
)

// incoming46 sends round 46's secrets in query values to the application:
// a URL's password holding a space (a "+" or "%20" decoded) in a URL given
// to a query value (Postgres, Redis, AMQP, MongoDB SRV, a MySQL DSN), a
// credential of letters alone after "Authorization: <scheme> ", and values
// percent-encoded twice.
func incoming46(c *corpus, get func(string, map[string]string)) {
	get("/go?next=https://h2.example/cb?q=postgres://bob:"+c.secret("query value's URL: a Postgres password's first word", "qpgfirst46")+"+"+
		c.secret("query value's URL: a Postgres password's second word", "qpgsecond46")+"@db/x", nil)
	get("/go?next="+url.QueryEscape("https://h2.example/cb?a=1&q=redis://:"+c.secret("query value's URL: a Redis password's first word", "qrdfirst46")+" "+
		c.secret("query value's URL: a Redis password's second word", "qrdsecond46")+"@cache/0"), nil)
	get("/go?next=https://h2.example/r/amqp://guest:"+c.secret("query value's path: an AMQP password's first word", "qmqfirst46")+"%20"+
		c.secret("query value's path: an AMQP password's second word", "qmqsecond46")+"@mq/vh", nil)
	get("/go?next=https://h2.example/cb?q=u:"+c.secret("query value's URL: a MySQL DSN password's first word", "qmyfirst46")+"+"+
		c.secret("query value's URL: a MySQL DSN password's second word", "qmysecond46")+"@tcp(db:3306)/app", nil)
	get("/go?q="+url.QueryEscape("Authorization: Bearer "+c.secret("query value: a Bearer credential of letters", "qbearerletters")), nil)
	get("/go?next="+url.QueryEscape("https://h2.example/cb?q=Authorization: Token "+c.secret("query value's URL: a Token credential of letters", "qtokenletters")), nil)
	get("/go?next="+url.QueryEscape(url.QueryEscape("mongodb+srv://u:"+c.secret("query value encoded twice: a MongoDB SRV password", "qmongotwice46")+"@cluster.example.net/db")), nil)
	get("/go?q="+url.QueryEscape(url.QueryEscape("see api_key="+c.secret("query value encoded twice: an api_key pair", "qapikeytwice46"))), nil)
	get("/go?next=%252Fhome%253Fa%253D1", nil)
	c.readable("query value encoded twice, nothing secret", "next=%252Fhome%253Fa%253D1")
}

// calls46 makes round 46's calls from a handler: HTTP client calls whose
// URLs hold the same secrets in a fragment and encoded twice, an error
// that quotes such a URL and an Authorization header line, and an SQL
// text whose comment holds such a URL.
func calls46(ctx context.Context, c *corpus, client *http.Client, base string, lite *sql.DB) {
	do := func(raw string) {
		req, err := http.NewRequestWithContext(ctx, "GET", raw, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	do(base + "/cb#postgres://bob:" + c.secret("outgoing URL fragment: a URL's password", "outfragpg46") + "@db/x")
	do(base + "/cb#" + url.QueryEscape("api_key="+c.secret("outgoing URL fragment: an encoded api_key pair", "outfragkey46")))
	do(base + "/go?next=" + url.QueryEscape(url.QueryEscape("redis://:"+c.secret("outgoing URL: a Redis password encoded twice", "outtwice46")+"@cache/0")))
	do(base + "/go?next=https://h2.example/cb?q=postgres://bob:" + c.secret("outgoing URL: a password's first word", "outpgfirst46") + "+" +
		c.secret("outgoing URL: a password's second word", "outpgsecond46") + "@db/x")

	fail := func(msg string) { recording.StartCall(ctx, "api", "Get").End(errors.New(msg)) }
	fail(`Get "https://h2.example/cb?q=postgres://bob:` + c.secret("error: a quoted URL's query value's password, first word", "errpgfirst46") + " " +
		c.secret("error: a quoted URL's query value's password, second word", "errpgsecond46") + `@db/x": EOF`)
	fail("401 for Authorization: Bearer " + c.secret("error: a Bearer credential of letters", "errbearerletters"))
	fail("401 for Proxy-Authorization: Basic " + c.secret("error: a Basic credential of letters", "errbasicletters"))
	fail("redirect to https://h2.example/cb?q=password: " + c.secret("error: a URL's last value, a password after its name", "errqpassword46"))
	fail("Authorization: Bearer token expired")
	c.readable("error: prose after Authorization: Bearer", "Authorization: Bearer token expired")

	if rows, err := lite.QueryContext(ctx, "SELECT 1 -- from https://h2.example/cb?q=postgres://bob:"+
		c.secret("SQL comment: a URL's query value's password, first word", "sqlpgfirst46")+" "+
		c.secret("SQL comment: a URL's query value's password, second word", "sqlpgsecond46")+"@db/x\n"); err == nil {
		rows.Close()
	}
}
