package sqlnorm_test

import (
	"fmt"

	"github.com/goappstats/appstats/internal/sqlnorm"
)

func Example() {
	q := `SELECT "id" FROM users WHERE name = 'O''Brien' AND pw = "hunter2"`
	fmt.Println(sqlnorm.Normalize(sqlnorm.MySQL, q))
	fmt.Println(sqlnorm.Normalize(sqlnorm.Of("sqlite"), `SELECT "users"."id" FROM "users" WHERE pw = "hunter2"`))
	fmt.Println(sqlnorm.Normalize(sqlnorm.PostgreSQL, `SELECT $tag$hunter2$tag$, E'\'' /* a /* b */ c */ FROM t`))
	// Output:
	// SELECT ? FROM users WHERE name = ? AND pw = ?
	// SELECT "users"."id" FROM "users" WHERE pw = ?
	// SELECT ?, ? FROM t
}
