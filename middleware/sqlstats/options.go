package sqlstats

// An Option configures a wrapper made by [Wrap], [WrapConnector] or [Open].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	system string
	args   bool
}

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// WithSystem sets the database system recorded in each call's
// db.system.name attribute, such as "sqlite", "postgresql" or "mysql"
// (OpenTelemetry's well-known values). Without it the system is found from
// the driver's package (pgx and lib/pq: "postgresql"; modernc.org/sqlite,
// mattn/go-sqlite3: "sqlite"; go-sql-driver/mysql: "mysql"; the drivers of
// SQL Server, Oracle, ClickHouse, …); for a driver of no known database the
// attribute is not set (exporters write "other_sql").
//
// The system also chooses the SQL dialect statements are normalized in (see
// [NormalizeFor]). Without a known one, the dialect is found from the
// driver's package (github.com/jackc/pgx, github.com/lib/pq,
// github.com/go-sql-driver/mysql, modernc.org/sqlite,
// github.com/mattn/go-sqlite3…), and a driver of no known dialect has its
// statements normalized by [Normalize], which hides what any dialect would
// take as a literal.
func WithSystem(name string) Option {
	return optionFunc(func(c *config) { c.system = name })
}

// WithArgs records the arguments of each statement as call attributes
// db.query.parameter.<name> (named arguments) or db.query.parameter.<index>
// (positional arguments, from 0). Arguments are not recorded by default.
//
// Recorded arguments are redacted with the recorder's [recording.Redaction]:
// a named argument whose name holds a secret word (:ssn, @password) is
// replaced by [recording.Redacted]; positional arguments cannot be matched
// to column names reliably, so all of them are replaced when the
// statement's text itself holds a secret word (for example "password" or
// "token"); and any argument whose value looks secret — a JSON Web Token, a
// card number, an e-mail address, a long random token
// ([recording.Redaction.SecretValue]) — is replaced whatever its name.
// Strings are clipped and byte slices are recorded as their length only.
// Other values are written as fmt's %v writes them (a pointer as what it
// points at, NULL when nil; a map of more than 16 entries as its size),
// and only as far as the 64 bytes kept: a 100 MB argument costs what a
// short one does. Only a String or Error method of the argument's own type
// runs whole, as fmt runs it.
func WithArgs(enabled bool) Option {
	return optionFunc(func(c *config) { c.args = enabled })
}
