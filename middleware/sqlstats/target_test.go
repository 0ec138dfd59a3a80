package sqlstats

import (
	"reflect"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/sqlnorm"
	"github.com/goappstats/appstats/recording"
)

// TestTargetAttrs: db.namespace, server.address and server.port are read
// from the data source names of PostgreSQL's and MySQL's drivers as those
// drivers read them; never the user or the password, and nothing where the
// name leaves them to a default, names several hosts, or could have its
// password read as the host.
func TestTargetAttrs(t *testing.T) {
	attrs := func(kv ...string) []recording.Attr {
		var out []recording.Attr
		for i := 0; i < len(kv); i += 2 {
			out = append(out, recording.Attr{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		d    sqlnorm.Dialect
		dsn  string
		want []recording.Attr
	}{
		{sqlnorm.PostgreSQL, "postgres://bob:hunter2@db.example.com:5433/shop?sslmode=disable",
			attrs("db.namespace", "shop", "server.address", "db.example.com", "server.port", "5433")},
		{sqlnorm.PostgreSQL, "postgresql://db.example.com/shop", attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, "postgres:///shop?host=/var/run/postgresql", attrs("db.namespace", "shop", "server.address", "/var/run/postgresql")},
		{sqlnorm.PostgreSQL, "host=db.example.com port=5433 user=bob password='hunter 2' dbname='my shop'",
			attrs("db.namespace", "my shop", "server.address", "db.example.com", "server.port", "5433")},
		{sqlnorm.PostgreSQL, "user=bob password=hunter2", nil},
		{sqlnorm.PostgreSQL, "postgres://bob:hunter2@h1:5432,h2:5432/shop", attrs("db.namespace", "shop")},
		{sqlnorm.PostgreSQL, "host=h1,h2 dbname=shop", attrs("db.namespace", "shop")},
		// A password with an unescaped "/": pgx would read "hun" as the host.
		{sqlnorm.PostgreSQL, "postgres://bob:hun/ter2@db.example.com/shop", nil},
		{sqlnorm.PostgreSQL, "postgres://bob:1234/ter2@db.example.com/shop", nil},
		{sqlnorm.MySQL, "bob:hunter2@tcp(db.example.com:3307)/shop?parseTime=true",
			attrs("db.namespace", "shop", "server.address", "db.example.com", "server.port", "3307")},
		{sqlnorm.MySQL, "bob:hu/n@te(r2@tcp(db.example.com)/shop", attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.MySQL, "bob:hunter2@unix(/tmp/mysql.sock)/shop", attrs("db.namespace", "shop", "server.address", "/tmp/mysql.sock")},
		{sqlnorm.MySQL, "/shop", attrs("db.namespace", "shop")},
		{sqlnorm.MySQL, "bob:hunter2@/", nil},
		// Review 41: a "/" in the password and no /dbname: the driver
		// splits at the last "/", and what follows it is the password's
		// end, not a database; nor is a socket's path, or what follows
		// a "/" where no user information or network stands before it.
		{sqlnorm.MySQL, "bob:hunter/2@tcp(db:3306)", nil},
		{sqlnorm.MySQL, "bob:hunter/2@tcp(db:3306)?parseTime=true", nil},
		{sqlnorm.MySQL, "bob:hun/ter2@db", nil},
		{sqlnorm.MySQL, "bob:hun/ter2", nil},
		{sqlnorm.MySQL, "bob:hun/ter2(x", nil},
		{sqlnorm.MySQL, "bob:hun/ter2)", nil},
		{sqlnorm.MySQL, "bob:hunter2@unix(/tmp/mysql.sock)", nil},
		{sqlnorm.MySQL, "bob:hun/ter2@unix(/tmp/mysql.sock)", nil},
		{sqlnorm.MySQL, "bob:hun/ter2@tcp(db:3306)/shop", attrs("db.namespace", "shop", "server.address", "db", "server.port", "3306")},
		// Round 43: a password holding white space, "@", ":", "/", "(",
		// ")", which the driver reads: the target is read after it.
		{sqlnorm.MySQL, "bob:hun ter2@tcp(db:3306)/shop", attrs("db.namespace", "shop", "server.address", "db", "server.port", "3306")},
		{sqlnorm.MySQL, "bob:a@b:c/d(e) f@tcp(db:3306)/shop", attrs("db.namespace", "shop", "server.address", "db", "server.port", "3306")},
		{sqlnorm.MySQL, "bob:x@tcp(evil:1)/y@tcp(db:3306)/shop", attrs("db.namespace", "shop", "server.address", "db", "server.port", "3306")},
		{sqlnorm.MySQL, "bob:hun ter2@unix(/tmp/my.sock)/shop", attrs("db.namespace", "shop", "server.address", "/tmp/my.sock")},
		{sqlnorm.PostgreSQL, "postgres://bob:hun%20ter2@db:5432/shop", attrs("db.namespace", "shop", "server.address", "db", "server.port", "5432")},
		{sqlnorm.PostgreSQL, "postgres://bob:hun ter2@db:5432/shop", nil}, // pgx and lib/pq refuse it
		{sqlnorm.PostgreSQL, "service=prod passfile=/etc/pgpass dbname=shop", attrs("db.namespace", "shop")},
		{sqlnorm.MySQL, "bob:x/hunter2@/shop", attrs("db.namespace", "shop")},
		{sqlnorm.MySQL, "bob:hunter2@tcp(db:3306)/", attrs("server.address", "db", "server.port", "3306")},
		// Round 42: URL-encoded passwords, options= and sslpassword=,
		// quoted key=value values holding spaces, "=" and quotes: only
		// the database, host and port are read, never from them.
		{sqlnorm.PostgreSQL, "postgres://bob:hun%2Fter2%40x%3Ay@db.example.com:5433/shop?sslpassword=hunter2&options=-c%20search_path%3Dhunter2",
			attrs("db.namespace", "shop", "server.address", "db.example.com", "server.port", "5433")},
		{sqlnorm.PostgreSQL, "postgres://bob:hun%23ter2@db.example.com/shop", attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, "postgres://bob:hun#ter2@db.example.com/shop", nil},
		{sqlnorm.PostgreSQL, "postgres://bob:hun?ter2@db.example.com/shop", nil},
		{sqlnorm.PostgreSQL, "postgres://bob:hun@ter2@db.example.com/shop", attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, "postgres://db.example.com/shop?password=hunter2&sslpassword=hunter2&options=-c%20a%3Dhunter2",
			attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, "host=db.example.com password='hunter2 host=evil dbname=ter2' dbname=shop",
			attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, `host=db.example.com password='hun\' host=evil ter2' dbname=shop`,
			attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, `host=db.example.com password=hun\ host=evil dbname=shop`,
			attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, "host=db.example.com sslpassword='hunter2 port=1' options='-c password=hunter2 -c dbname=ter2' dbname=shop",
			attrs("db.namespace", "shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, "host = db.example.com password = hunter2 dbname = 'my shop'",
			attrs("db.namespace", "my shop", "server.address", "db.example.com")},
		{sqlnorm.PostgreSQL, "host=db.example.com password='hunter2", nil},
		{sqlnorm.SQLite, "file:/tmp/app.db?cache=shared", nil},
		{sqlnorm.Unknown, "postgres://db.example.com/shop", nil},
	}
	for _, tt := range tests {
		got := targetAttrs(tt.d, tt.dsn)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("targetAttrs(%v, %q)\n = %v\nwant %v", tt.d, tt.dsn, got, tt.want)
		}
		for _, a := range got {
			if strings.Contains(a.Value, "hunter") || strings.Contains(a.Value, "ter2") || strings.Contains(a.Value, "bob") {
				t.Errorf("targetAttrs(%v, %q): %s = %q holds the user or the password", tt.d, tt.dsn, a.Key, a.Value)
			}
		}
	}
}
