package sqlstats_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"

	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/recording"
	_ "modernc.org/sqlite"
)

func Example() {
	// A recorder whose sink prints each call.
	rec := recording.New(recording.WithSinks(recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		for _, r := range recs {
			for _, c := range r.Calls {
				fmt.Printf("%s %q: %s (%s)\n", c.Service, c.Method, c.Request, c.Response)
			}
		}
		return nil
	})))

	db, err := sqlstats.Open("sqlite", ":memory:", sqlstats.WithSystem("sqlite"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database
	if _, err := db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"); err != nil {
		log.Fatal(err)
	}

	// In a request (here started by hand; the HTTP middleware does it for
	// each request), calls made with its context are recorded.
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/signup"})
	if _, err := db.ExecContext(ctx, "INSERT INTO users (name) VALUES ('ann')"); err != nil {
		log.Fatal(err)
	}
	var name string
	err = db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = 42").Scan(&name)
	if !errors.Is(err, sql.ErrNoRows) {
		log.Fatal(err)
	}
	ar.Finish()
	rec.Close(context.Background())
	// Output:
	// sql "INSERT users": INSERT INTO users (name) VALUES (?) (1 row affected)
	// sql "SELECT users": SELECT name FROM users WHERE id = ? (0 rows)
}

func ExampleNormalize() {
	fmt.Println(sqlstats.Normalize("SELECT *\n  FROM orders -- recent\n WHERE user_id = 42 AND status = 'open'"))
	// Output: SELECT * FROM orders WHERE user_id = ? AND status = ?
}

func ExampleNormalizeFor() {
	fmt.Println(sqlstats.NormalizeFor("postgresql", `SELECT "Name" FROM users WHERE pw = E'it\'s' OR note = $$x$$ /* a /* b */ c */`))
	fmt.Println(sqlstats.NormalizeFor("mysql", `SELECT name FROM users WHERE pw = "it\"s" # note`))
	fmt.Println(sqlstats.NormalizeFor("sqlite", `SELECT "users"."name" FROM "users" WHERE pw = "secret"`))
	// Output:
	// SELECT "Name" FROM users WHERE pw = ? OR note = ?
	// SELECT name FROM users WHERE pw = ?
	// SELECT "users"."name" FROM "users" WHERE pw = ?
}

func ExampleDescribe() {
	fmt.Println(sqlstats.Describe("UPDATE accounts SET balance = ? WHERE id = ?"))
	fmt.Println(sqlstats.Describe("WITH t AS (SELECT ?) INSERT INTO audit SELECT * FROM t"))
	fmt.Println(sqlstats.Describe("CREATE INDEX idx_email ON users (email)"))
	// Output:
	// UPDATE accounts
	// INSERT audit
	// CREATE INDEX users
}
