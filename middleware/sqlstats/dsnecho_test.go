package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/recording"
)

// refusingConnector fails to connect, its error echoing its data source
// name, as some drivers' do.
type refusingConnector struct{ dsn string }

func (c refusingConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("cannot connect to " + c.dsn + ": connection refused")
}
func (refusingConnector) Driver() driver.Driver { return refusingDriver{} }

type refusingDriver struct{}

func (refusingDriver) Open(string) (driver.Conn, error) { return nil, errors.New("refused") }

// TestConnectErrorEchoesOddDSN checks that a connection's error that echoes
// a DSN whose password begins with digits and white space, or follows a
// Redis URL's empty user, is recorded without the password (round 44: the
// CONNECT call's error kept "12 34x" of "u:12 34x@tcp(127.0.0.1:3306)/db"),
// in the call's error and in none of its attributes.
func TestConnectErrorEchoesOddDSN(t *testing.T) {
	for _, tt := range []struct{ system, dsn, secret string }{
		{"mysql", "u:12 34x@tcp(127.0.0.1:3306)/db", "34x"},
		{"mysql", "u:9 nine9@/db?parseTime=true", "nine9"},
		{"mysql", "u:12:34 x9z@unix(/tmp/my.sock)/db", "x9z"},
		{"postgresql", "postgres://u:12 34y@h:5432/db", "34y"},
		{"redis", "redis://:pa ss9@h:6379/0", "ss9"},
	} {
		db := sql.OpenDB(sqlstats.WrapConnector(refusingConnector{tt.dsn}, sqlstats.WithSystem(tt.system)))
		r := record(t, func(ctx context.Context) {
			if err := db.PingContext(ctx); err == nil {
				t.Fatal("Ping succeeded")
			}
		})
		db.Close()
		c := findCall(t, r, "CONNECT")
		if c.Error == "" || strings.Contains(c.Error, tt.secret) || !strings.Contains(c.Error, recording.Redacted) {
			t.Errorf("%s: error recorded as %q", tt.dsn, c.Error)
		}
		for _, a := range c.Attrs {
			if strings.Contains(a.Value, tt.secret) {
				t.Errorf("%s: attribute %s = %q", tt.dsn, a.Key, a.Value)
			}
		}
	}
}
