// Package secretcorpus is the end-to-end test that secrets never leave the
// process: a corpus of secret-bearing inputs — query parameters, headers,
// path segments that look like tokens (JSON Web Tokens, card numbers,
// random tokens, e-mail addresses), URLs nested in values and in paths (an
// empty user's password, the path's "//" cleaned to "/"), SQL statements
// of each dialect with literals of every kind, driver, gRPC and HTTP error
// messages, bearer and basic credentials in error and panic messages,
// structs and maps printed by fmt and a Cookie header line in panic
// values, an OAuth authorization code in a query, a
// header value cut at its byte cap inside a URL's password, gRPC metadata,
// SQL arguments, structs printed with %v without their fields' names,
// passwords that are plain words (YAML's "password: …", Redis' AUTH),
// secret names spelt with Unicode's look-alikes, Oracle, JDBC and ODBC
// connection strings, data source names that drivers' errors echo without
// quotes (quoted key=value passwords with spaces and "=", a libpq
// backslash-escaped space, sslpassword, options, URL-encoded passwords; a
// MySQL DSN's and a URL's password holding white space, "@", ":", "/", "("),
// passwords written without quotes in SQL (after a plugin, in SET PASSWORD, GRANT, CHANGE MASTER|REPLICATION SOURCE,
// after another statement of the text, inside a procedure's, trigger's or
// event's body, after an executable comment; SQLite's key pragmas, their
// names quoted or not), Azure's key headers quoted in errors and its
// subscription-key query parameter, a Bearer credential after a tab, and
// (round 46) URLs' passwords holding a space in a URL given to a query
// value (Postgres, Redis, AMQP, a MySQL DSN), credentials of letters alone
// after "Authorization: <scheme> ", URLs and pairs in a fragment, values
// percent-encoded twice, in incoming and outgoing URLs, errors and an SQL
// comment; (round 47) URLs written as a query's or a fragment's name, a
// cleaned "scheme:/" URL at a text's start, secret names percent-encoded
// before a blank, blanks around "=" and ":", JSON name/value pairs, lists
// and JSON quoted twice, Ruby's hashes, XML entries named by a key, Redis
// commands (HSET, CONFIG SET requirepass, ACL SETUSER, go-redis' failed
// auth) and curl's "-u", in errors, attributes and an SQL argument — goes
// through a real application
// (net/http with httpstats' middleware and transport, gRPC with grpcstats'
// handlers, database/sql through sqlstats on SQLite, a real PostgreSQL
// through pgx, and a MySQL-dialect driver)
// into a Badger store and an OpenTelemetry exporter. After everything is
// closed, neither the dashboard's JSON API, its pages (the dashboard and
// every record's details), the exported spans nor the bytes of any file of
// the data directory may hold any of the secrets, and a list of benign names and values (author, keyword,
// :authority, key1, UUIDs, numeric ids, an OAuth state, a count of tokens
// in a query and in an attribute, a /password_reset path, ordinary %v
// output, a module's version…) must still read as they were.
//
// The package holds only tests. The test logs its counts — secrets leaked
// through the API and into the files, benign values wrongly hidden — and
// fails on any.
package secretcorpus
