//lint:file-ignore SA1019 the wrapper forwards the deprecated driver interfaces as the driver has them.

package sqlstats

//go:generate go run gen_combos.go

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// Unwrapper is implemented by the connections this package returns, so that
// code holding one — through [database/sql.Conn.Raw] — can reach the
// driver's own connection and its driver-specific methods:
//
//	conn.Raw(func(dc any) error {
//		if u, ok := dc.(sqlstats.Unwrapper); ok {
//			dc = u.Unwrap()
//		}
//		…
//	})
type Unwrapper interface {
	Unwrap() driver.Conn
}

// conn wraps a driver's connection.
//
// It has every method of every optional interface, but wrapConn returns it
// inside a value that claims only those the driver's connection has (see
// combos.go), with one exception: the context-taking entry points are
// claimed whenever database/sql would call their legacy forms, because
// without a context no call could be attributed to a request.
// ConnPrepareContext and ConnBeginTx are always claimed; QueryerContext and
// ExecerContext when the driver's connection has them or Queryer and
// Execer. Where the driver's connection lacks one of them, conn does what
// database/sql does in that case — calls Query, Exec, Prepare or Begin with
// the same argument checks and context checks — so database/sql behaves as
// with the bare driver. A connection with neither Queryer nor
// QueryerContext (Execer nor ExecerContext) is not given QueryerContext
// (ExecerContext): database/sql then prepares each statement, converting
// its arguments with the statement's checkers, and the statement records
// it. (Were QueryerContext claimed, database/sql would first convert the
// arguments for it with the connection's checkers, and refuse types only
// the statement's take.)
type conn struct {
	c driver.Conn
	w *wrapper

	queryerCtx driver.QueryerContext
	queryer    driver.Queryer
	execerCtx  driver.ExecerContext
	execer     driver.Execer
	prepareCtx driver.ConnPrepareContext
	beginTx    driver.ConnBeginTx
	pinger     driver.Pinger
	resetter   driver.SessionResetter
	validator  driver.Validator
	checker    driver.NamedValueChecker

	// txCtx is the context of the recorded transaction in progress, if
	// any. database/sql uses a connection from one goroutine at a time.
	txCtx context.Context
}

// connCore is the method set every wrapped connection has.
type connCore interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	Unwrapper
}

var (
	_ connCore              = (*conn)(nil)
	_ driver.QueryerContext = (*conn)(nil)
	_ driver.ExecerContext  = (*conn)(nil)
)

func wrapConn(c driver.Conn, w *wrapper) driver.Conn {
	wc := &conn{c: c, w: w}
	wc.queryerCtx, _ = c.(driver.QueryerContext)
	wc.queryer, _ = c.(driver.Queryer)
	wc.execerCtx, _ = c.(driver.ExecerContext)
	wc.execer, _ = c.(driver.Execer)
	wc.prepareCtx, _ = c.(driver.ConnPrepareContext)
	wc.beginTx, _ = c.(driver.ConnBeginTx)
	wc.pinger, _ = c.(driver.Pinger)
	wc.resetter, _ = c.(driver.SessionResetter)
	wc.validator, _ = c.(driver.Validator)
	wc.checker, _ = c.(driver.NamedValueChecker)
	return wc.compose()
}

// Unwrap returns the driver's connection.
func (c *conn) Unwrap() driver.Conn { return c.c }

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	s, err := c.c.Prepare(query)
	if err != nil {
		return nil, err
	}
	return wrapStmt(s, query, c, nil), nil
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if isCopy(query) {
		return c.prepareCopy(ctx, query)
	}
	call := (*recording.ActiveCall)(nil)
	if a := recording.FromContext(ctx); a != nil {
		call = c.w.startStmt(ctx, a, query, true, nil)
	}
	ended := false // the driver returned: see convention.EndIfPanicked
	defer convention.EndIfPanicked(call, &ended)
	s, err := c.prepare(ctx, query)
	ended = true
	endCall(call, err)
	if err != nil {
		return nil, err
	}
	return wrapStmt(s, query, c, nil), nil
}

// prepare is database/sql's ctxDriverPrepare.
func (c *conn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	if c.prepareCtx != nil {
		return c.prepareCtx.PrepareContext(ctx, query)
	}
	s, err := c.c.Prepare(query)
	if err == nil {
		select {
		default:
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		}
	}
	return s, err
}

func (c *conn) Close() error { return c.c.Close() }

func (c *conn) Begin() (driver.Tx, error) { return c.c.Begin() }

var (
	errIsolation = errors.New("sql: driver does not support non-default isolation level")
	errReadOnly  = errors.New("sql: driver does not support read-only transactions")
	errNamed     = errors.New("sql: driver does not support the use of Named Parameters")
)

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	a := recording.FromContext(ctx)
	if a == nil {
		return c.begin(ctx, opts)
	}
	call := c.w.startOp(ctx, a, "BEGIN")
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	tx, err := c.begin(ctx, opts)
	ended = true
	endCall(call, err)
	if err != nil {
		return nil, err
	}
	c.txCtx = ctx
	return &wtx{tx: tx, ctx: ctx, c: c}, nil
}

// begin is database/sql's ctxDriverBegin.
func (c *conn) begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.beginTx != nil {
		return c.beginTx.BeginTx(ctx, opts)
	}
	if opts.Isolation != driver.IsolationLevel(0) {
		return nil, errIsolation
	}
	if opts.ReadOnly {
		return nil, errReadOnly
	}
	if ctx.Done() == nil {
		return c.c.Begin()
	}
	tx, err := c.c.Begin()
	if err == nil {
		select {
		default:
		case <-ctx.Done():
			tx.Rollback()
			return nil, ctx.Err()
		}
	}
	return tx, err
}

// Query is the legacy entry point; database/sql never uses it, since conn
// has QueryContext. It is not recorded (it has no context).
func (c *conn) Query(query string, args []driver.Value) (driver.Rows, error) {
	if c.queryer == nil {
		return nil, driver.ErrSkip
	}
	return c.queryer.Query(query, args)
}

// Exec is the legacy entry point, like Query.
func (c *conn) Exec(query string, args []driver.Value) (driver.Result, error) {
	if c.execer == nil {
		return nil, driver.ErrSkip
	}
	return c.execer.Exec(query, args)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.queryerCtx == nil && c.queryer == nil {
		// Not claimed then (see conn): only code holding the conn through
		// Raw gets here, and should prepare the statement instead.
		return nil, driver.ErrSkip
	}
	a := recording.FromContext(ctx)
	if a == nil {
		return c.query(ctx, query, args)
	}
	call := c.w.startStmt(ctx, a, query, false, args)
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	rows, err := c.query(ctx, query, args)
	ended = true
	return endQuery(ctx, c.txCtx, call, rows, err), err
}

// query is database/sql's ctxDriverQuery.
func (c *conn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.queryerCtx != nil {
		return c.queryerCtx.QueryContext(ctx, query, args)
	}
	return withValues(ctx, args, func(v []driver.Value) (driver.Rows, error) { return c.queryer.Query(query, v) })
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.execerCtx == nil && c.execer == nil {
		return nil, driver.ErrSkip
	}
	a := recording.FromContext(ctx)
	if a == nil {
		return c.exec(ctx, query, args)
	}
	call := c.w.startStmt(ctx, a, query, false, args)
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	res, err := c.exec(ctx, query, args)
	ended = true
	endExec(call, res, err)
	return res, err
}

// exec is database/sql's ctxDriverExec.
func (c *conn) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.execerCtx != nil {
		return c.execerCtx.ExecContext(ctx, query, args)
	}
	return withValues(ctx, args, func(v []driver.Value) (driver.Result, error) { return c.execer.Exec(query, v) })
}

func (c *conn) Ping(ctx context.Context) error {
	if c.pinger == nil {
		return nil
	}
	a := recording.FromContext(ctx)
	if a == nil {
		return c.pinger.Ping(ctx)
	}
	call := c.w.startOp(ctx, a, "PING")
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	err := c.pinger.Ping(ctx)
	ended = true
	endCall(call, err)
	return err
}

func (c *conn) ResetSession(ctx context.Context) error {
	if c.resetter == nil {
		return nil
	}
	return c.resetter.ResetSession(ctx)
}

func (c *conn) IsValid() bool {
	if c.validator == nil {
		return true
	}
	return c.validator.IsValid()
}

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if c.checker == nil {
		return driver.ErrSkip
	}
	return c.checker.CheckNamedValue(nv)
}

// withValues calls f, a driver method from before contexts, as database/sql
// does (its ctxDriverQuery and friends): with the arguments as plain values
// (named ones are refused), and only if ctx is not done yet, since f cannot
// be cancelled.
func withValues[T any](ctx context.Context, args []driver.NamedValue, f func([]driver.Value) (T, error)) (T, error) {
	var zero T
	values, err := namedValueToValue(args)
	if err != nil {
		return zero, err
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	return f(values)
}

func namedValueToValue(named []driver.NamedValue) ([]driver.Value, error) {
	dargs := make([]driver.Value, len(named))
	for n, param := range named {
		if len(param.Name) > 0 {
			return nil, errNamed
		}
		dargs[n] = param.Value
	}
	return dargs, nil
}

// wtx wraps the transaction of a recorded request: Commit and Rollback have
// no context of their own and are recorded in the request that began it.
type wtx struct {
	tx  driver.Tx
	ctx context.Context
	c   *conn
}

func (t *wtx) Commit() error {
	t.c.txCtx = nil
	call := startOpCtx(t.ctx, t.c.w, "COMMIT")
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	err := t.tx.Commit()
	ended = true
	endCall(call, err)
	return err
}

func (t *wtx) Rollback() error {
	t.c.txCtx = nil
	call := startOpCtx(t.ctx, t.c.w, "ROLLBACK")
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	err := t.tx.Rollback()
	ended = true
	endCall(call, err)
	return err
}

func startOpCtx(ctx context.Context, w *wrapper, op string) *recording.ActiveCall {
	a := recording.FromContext(ctx)
	if a == nil {
		return nil
	}
	return w.startOp(ctx, a, op)
}
