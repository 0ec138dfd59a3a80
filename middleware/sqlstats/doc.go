// Package sqlstats records database/sql calls as calls of the request being
// recorded: each query, statement, transaction step and ping made with a
// request's context becomes a call of service "sql" on its timeline.
//
// # Use
//
// Open a database through the wrapper instead of [database/sql.Open]:
//
//	db, err := sqlstats.Open("sqlite", "file:app.db", sqlstats.WithSystem("sqlite"))
//
// or wrap a connector or a driver yourself and pass it to
// [database/sql.OpenDB]. Nothing is registered globally. Then use the
// context-taking methods (QueryContext, ExecContext, BeginTx, PingContext,
// …) with the request's context; calls made without a recorded request (or
// through the methods without a context) pass through with next to no cost.
//
// # What is recorded
//
// The call's method is the statement's operation and the table it names,
// such as "SELECT users", "INSERT orders" or "CREATE TABLE items", found by a
// small scanner of the statement's text ([Describe]); statements that name no
// table are recorded by their operation alone ("BEGIN", "COMMIT",
// "ROLLBACK", "PING", "PRAGMA"). Preparing a statement is a call
// "PREPARE SELECT users"; executing it is recorded like the same statement
// sent directly. Opening a connection inside a request is a call "CONNECT",
// whichever way the driver was wrapped ([Open], [WrapConnector] or [Wrap]).
// A driver method that panics ends its call with the error "panicked"
// (error.type "panic"); the panic goes on to the caller unchanged.
//
// A PostgreSQL COPY fed row by row through a prepared statement (lib/pq's
// CopyIn) is one call, "COPY" and its table, from the Prepare to the Exec
// without arguments that ends it, with the number of rows copied.
//
// The call's request summary, and its db.query.text attribute, is the
// statement normalized by a lexer of its SQL dialect ([NormalizeFor]; the
// dialect comes from [WithSystem] or from the driver's package, and a
// statement of unknown dialect is read by [Normalize], which hides what any
// dialect would take as a literal): every literal replaced by ? — strings,
// numbers, blobs, PostgreSQL's escape and dollar-quoted strings (a
// routine's body in PL/pgSQL or SQL, DO $$ … $$, is read as code, its
// literals hidden), the elements of arrays, SQLite's and MySQL's "…" unless it can only be an
// identifier, and, where a server setting decides whether a backslash
// escapes a quote, what either reading takes as a string — IN lists
// collapsed, comments dropped as the dialect reads them (nested ones in
// PostgreSQL, MySQL's # comments, and MySQL's -- only before white space;
// MySQL's executable comments, /*! … */, are kept as the code MySQL reads
// them as, their literals hidden, and a string in one that spans its */ is
// hidden whole),
// white space collapsed (of a text longer than 4 KiB, only the start is
// normalized and recorded). Each distinct text is normalized once and
// cached. As what follows a backslash-escaped quote ('it\'s …') may be a
// string in the other reading of backslashes, it is hidden, and statements
// whose texts differ only there may share one stats group. No value a query
// carries as a literal is recorded, and the same query run in a loop is
// recorded with the same text, which is how the recorder's analysis reports
// an N+1 pattern
// ([recording.WarnRepeated]). The recorder scrubs a statement's error
// message before it is stored: drivers quote the tokens they reject (SQLite's
// near "'hunter2'": syntax error), and those fragments are replaced (see
// [recording.Redaction]).
//
// A query's call lasts until its rows are closed, and notes the number of
// rows read (db.response.returned_rows); an Exec notes the rows it affected
// (appstats.db.affected_rows: the conventions have no such attribute). A
// statement's error is the call's error; so is the error of a context
// cancelled (or past its deadline) while the rows were read, as database/sql
// reports it to the application. The database's own code of an error — the
// SQLSTATE of PostgreSQL drivers, SQLite's result code — is the call's
// db.response.status_code and error.type; other errors have their Go type as
// error.type.
//
// Other attributes follow the OpenTelemetry conventions: db.system.name (see
// [WithSystem]; found from the driver without it), db.query.summary (the
// call's method, "SELECT users", which names the exported span), and
// db.operation.name for calls without a statement ("BEGIN", "COMMIT",
// "PING", "CONNECT"). A database opened with [Open] also names its
// db.namespace (which the conventions require when it is known without
// asking the server), server.address and server.port, as the data source
// name gives them: PostgreSQL's URL and keyword/value forms
// (postgres://host:5433/shop, host=h port=5433 dbname=shop) and
// github.com/go-sql-driver/mysql's (user:pw@tcp(host:3306)/shop); what
// the name leaves to a default or to the environment is not sent, nor
// anything for several hosts or for a name whose password could be read as
// its host or database (a "/" in it: bob:hunter/2@tcp(db:3306)), and the
// user and password are never read.
// A driver wrapped by [Wrap] or [WrapConnector] may open several data
// sources, and its calls carry none of these.
//
// Arguments are not recorded unless [WithArgs] enables them, and then they
// are redacted by the recorder's rules.
//
// A statement the driver refuses with [driver.ErrBadConn] (as lib/pq may
// on a connection the server has closed) is recorded as a failed call, and
// database/sql's run of it on another connection as a call of its own
// (after a "CONNECT"): the application sees only the last one's result.
//
// # Transactions
//
// BEGIN is recorded in the request whose context was passed to BeginTx;
// COMMIT and ROLLBACK have no context of their own and are recorded in that
// same request. Statements inside the transaction are recorded in the
// request of the context they are given.
//
// # Faithful wrapping
//
// database/sql changes what it does according to the optional interfaces a
// driver implements. The wrapper claims, for connections, exactly the
// optional interfaces the driver's connection has, plus the context-taking
// ones it needs to attribute calls (ConnPrepareContext, ConnBeginTx, and
// QueryerContext and ExecerContext when the connection has their legacy
// forms, Queryer and Execer): when the driver lacks one of those, the
// wrapper does what database/sql itself does in that case. A
// [driver.ErrSkip] from the driver is forwarded unchanged and never
// recorded. Statements and rows claim their
// optional interfaces with the answers database/sql assumes when a driver
// lacks them; a statement claims [driver.ColumnConverter] only if the
// driver's does. The connection seen through [database/sql.Conn.Raw] is the
// wrapper; it implements [Unwrapper] to reach the driver's own. A driver's
// helper that takes a [database/sql.Conn] and asserts its own connection type
// inside Raw fails with the wrapper (modernc.org/sqlite's Limit returns
// "unexpected driverConn type"); a method the driver's connection exports is
// reached through Unwrap.
package sqlstats
