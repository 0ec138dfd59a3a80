//lint:file-ignore SA1019 the wrapper forwards the deprecated driver interfaces as the driver has them.

package sqlstats

import (
	"context"
	"database/sql/driver"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// stmt wraps a prepared statement. Only database/sql sees it. It claims
// StmtExecContext and StmtQueryContext (the context carries the request),
// doing what database/sql does when the driver's statement lacks them, and
// NamedValueChecker, deferring to the driver's statement, then to its
// connection, as database/sql does. ColumnConverter changes how database/sql
// converts arguments, so it is claimed only when the driver's statement has
// it (stmtCC).
type stmt struct {
	s     driver.Stmt
	query string
	c     *conn
	copy  *copyIn // a COPY … FROM STDIN, or nil

	execCtx  driver.StmtExecContext
	queryCtx driver.StmtQueryContext
	checker  driver.NamedValueChecker
}

// stmtCC is a stmt whose driver statement has a ColumnConverter.
type stmtCC struct {
	*stmt
	cc driver.ColumnConverter
}

var (
	_ driver.Stmt              = (*stmt)(nil)
	_ driver.StmtExecContext   = (*stmt)(nil)
	_ driver.StmtQueryContext  = (*stmt)(nil)
	_ driver.NamedValueChecker = (*stmt)(nil)
	_ driver.ColumnConverter   = stmtCC{}
)

func wrapStmt(s driver.Stmt, query string, c *conn, cp *copyIn) driver.Stmt {
	ws := &stmt{s: s, query: query, c: c, copy: cp}
	ws.execCtx, _ = s.(driver.StmtExecContext)
	ws.queryCtx, _ = s.(driver.StmtQueryContext)
	ws.checker, _ = s.(driver.NamedValueChecker)
	if ws.checker == nil {
		ws.checker = c.checker
	}
	if cc, ok := s.(driver.ColumnConverter); ok {
		return stmtCC{ws, cc}
	}
	return ws
}

func (s stmtCC) ColumnConverter(idx int) driver.ValueConverter { return s.cc.ColumnConverter(idx) }

func (s *stmt) Close() error {
	if s.copy != nil {
		return s.closeCopy()
	}
	return s.s.Close()
}

func (s *stmt) NumInput() int { return s.s.NumInput() }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) { return s.s.Exec(args) }

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) { return s.s.Query(args) }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.copy != nil {
		return s.execCopy(ctx, args)
	}
	a := recording.FromContext(ctx)
	if a == nil {
		return s.exec(ctx, args)
	}
	call := s.c.w.startStmt(ctx, a, s.query, false, args)
	ended := false // the driver returned: see convention.EndIfPanicked
	defer convention.EndIfPanicked(call, &ended)
	res, err := s.exec(ctx, args)
	ended = true
	endExec(call, res, err)
	return res, err
}

// exec is database/sql's ctxDriverStmtExec.
func (s *stmt) exec(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.execCtx != nil {
		return s.execCtx.ExecContext(ctx, args)
	}
	return withValues(ctx, args, s.s.Exec)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	a := recording.FromContext(ctx)
	if a == nil {
		return s.queryRows(ctx, args)
	}
	call := s.c.w.startStmt(ctx, a, s.query, false, args)
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	rows, err := s.queryRows(ctx, args)
	ended = true
	return endQuery(ctx, s.c.txCtx, call, rows, err), err
}

// queryRows is database/sql's ctxDriverStmtQuery.
func (s *stmt) queryRows(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.queryCtx != nil {
		return s.queryCtx.QueryContext(ctx, args)
	}
	return withValues(ctx, args, s.s.Query)
}

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if s.checker == nil {
		return driver.ErrSkip
	}
	return s.checker.CheckNamedValue(nv)
}
