package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/recording"
)

// TestPostgresRecordsAgree: through pgx's stdlib and lib/pq, wrapped, each
// of what the pool and the server do to a statement — the pool's
// connection ended by the server (pg_terminate_backend) before a query,
// before an Exec, under a pinned connection and under a transaction; a
// query cancelled by its context while the server runs it; one the
// server's statement_timeout ends — is recorded so that the last call of
// the statement failed if and only if the application got an error, and
// every call before it that failed is one database/sql retried: a bad
// connection, never an error the application would not have seen.
func TestPostgresRecordsAgree(t *testing.T) {
	dsn, admin := startPostgresAdmin(t)
	for _, drv := range pgDrivers(dsn) {
		t.Run(drv.name, func(t *testing.T) {
			db := sql.OpenDB(sqlstats.WrapConnector(drv.open(t)))
			defer db.Close()
			db.SetMaxOpenConns(1)
			ctx := context.Background()
			pid := func(q rowQuerier) int { t.Helper(); return backendPID(ctx, t, q) }
			// check records fn, which returns the application's error
			// for a statement whose query text holds marker.
			check := func(name, marker string, fn func(ctx context.Context) error) {
				t.Helper()
				var appErr error
				r := record(t, func(ctx context.Context) { appErr = fn(ctx) })
				var calls []*recording.Call
				for i := range r.Calls {
					if c := &r.Calls[i]; strings.Contains(c.Request, marker) || strings.Contains(c.Method, marker) {
						calls = append(calls, c)
					}
				}
				if len(calls) == 0 {
					t.Errorf("%s: no call of the statement recorded; app error %v", name, appErr)
					return
				}
				last := calls[len(calls)-1]
				if (appErr != nil) != (last.Error != "") {
					t.Errorf("%s: the application got %v, the statement's last call recorded error %q", name, appErr, last.Error)
				}
				for _, c := range calls[:len(calls)-1] {
					if c.Error == "" || !strings.Contains(c.Error, driver.ErrBadConn.Error()) {
						t.Errorf("%s: a call before the last, with error %q, is no bad connection database/sql retried (app error %v)", name, c.Error, appErr)
					}
				}
				for _, c := range r.Calls {
					if c.Running {
						t.Errorf("%s: call %s %s still running", name, c.Service, c.Method)
					}
				}
			}
			terminate(t, admin, pid(db))
			check("query after kill", "agree_q", func(ctx context.Context) error {
				var n int
				return db.QueryRowContext(ctx, "SELECT 1 AS agree_q").Scan(&n)
			})
			terminate(t, admin, pid(db))
			check("exec after kill", "agree_e", func(ctx context.Context) error {
				_, err := db.ExecContext(ctx, "SELECT 1 AS agree_e")
				return err
			})
			check("pinned after kill", "agree_p", func(ctx context.Context) error {
				c, err := db.Conn(ctx)
				if err != nil {
					return err
				}
				defer c.Close()
				terminate(t, admin, pid(c))
				_, err = c.ExecContext(ctx, "SELECT 1 AS agree_p")
				return err
			})
			check("tx after kill", "agree_t", func(ctx context.Context) error {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				terminate(t, admin, pid(tx))
				_, err = tx.ExecContext(ctx, "SELECT 1 AS agree_t")
				return err
			})
			check("cancelled mid-query", "agree_c", func(ctx context.Context) error {
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				done, stop := make(chan struct{}), make(chan struct{})
				go func() {
					defer close(done)
					// Cancel once the server runs it.
					for {
						var n int
						admin.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%agree_c%' AND query NOT LIKE '%pg_stat_activity%' AND state = 'active'").Scan(&n)
						if n > 0 {
							cancel()
							return
						}
						select {
						case <-stop: // it ended before the server ran it
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}()
				_, err := db.ExecContext(cctx, "SELECT pg_sleep(30) AS agree_c")
				close(stop)
				<-done
				return err
			})
			check("server timeout", "agree_s", func(ctx context.Context) error {
				c, err := db.Conn(ctx)
				if err != nil {
					return err
				}
				defer c.Close()
				if _, err := c.ExecContext(ctx, "SET statement_timeout = '50ms'"); err != nil {
					return err
				}
				defer c.ExecContext(ctx, "RESET statement_timeout")
				_, err = c.ExecContext(ctx, "SELECT pg_sleep(30) AS agree_s")
				return err
			})
		})
	}
}
