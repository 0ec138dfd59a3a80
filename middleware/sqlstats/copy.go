package sqlstats

import (
	"context"
	"database/sql/driver"
	"strconv"
	"strings"
	"time"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// A COPY statement (PostgreSQL's bulk load) is prepared once and then fed
// one row per Exec, ended by an Exec without arguments, as lib/pq's CopyIn
// does:
//
//	stmt, _ := tx.Prepare(pq.CopyIn("users", "name", "age"))
//	for _, u := range users {
//		stmt.Exec(u.Name, u.Age)
//	}
//	stmt.Exec()
//	stmt.Close()
//
// It is one statement on the server, so it is recorded as one call, "COPY"
// and its table, from the Prepare to the Exec without arguments (or to Close,
// or to the first error), with the rows sent and the rows the server reports.

// copyIn is the state of a prepared COPY statement.
type copyIn struct {
	table string
	call  *recording.ActiveCall // the COPY's call while it runs, or nil
	done  bool                  // the COPY's call has ended
	rows  int64                 // rows sent
}

// isCopy reports whether query is a COPY statement, as lib/pq decides it.
func isCopy(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) > 4 && strings.EqualFold(q[:4], "COPY") && strings.ContainsRune(" \t\r\n(\"", rune(q[4]))
}

// copyTable returns the table a normalized COPY statement names, unquoted,
// or "" for the COPY of a query.
func copyTable(normalized string) string {
	rest := strings.TrimLeft(normalized[min(len(normalized), 4):], " ")
	quoted := false
	end := 0
	for ; end < len(rest); end++ {
		c := rest[end]
		if c == '"' {
			quoted = !quoted
		} else if !quoted && (c == ' ' || c == '(' || c == ';') {
			break
		}
	}
	name := strings.ReplaceAll(strings.ReplaceAll(rest[:end], `""`, "\x00"), `"`, "")
	name = strings.ReplaceAll(name, "\x00", `"`)
	if len(name) > maxCopyTable {
		name = name[:maxCopyTable]
	}
	return name
}

// maxCopyTable bounds a recorded table name.
const maxCopyTable = 64

// startCopy starts the call of a COPY statement in a's request.
func (w *wrapper) startCopy(ctx context.Context, a *recording.ActiveRecord, query string, cp *copyIn) *recording.ActiveCall {
	t0 := time.Now()
	st := w.cache.get(query)
	if cp.table == "" {
		// COPY is PostgreSQL's: its table is read by PostgreSQL's rules,
		// where "…" is an identifier, whatever dialect the wrapper assumed.
		cp.table = copyTable(NormalizeFor("postgresql", query))
	}
	method := "COPY"
	if cp.table != "" {
		method += " " + cp.table
	}
	return w.startParsed(ctx, a, st, method, nil, t0)
}

// prepareCopy prepares a COPY statement, starting its call.
func (c *conn) prepareCopy(ctx context.Context, query string) (driver.Stmt, error) {
	cp := &copyIn{}
	if a := recording.FromContext(ctx); a != nil {
		cp.call = c.w.startCopy(ctx, a, query, cp)
	}
	ended := false // the driver returned: see convention.EndIfPanicked
	defer convention.EndIfPanicked(cp.call, &ended)
	s, err := c.prepare(ctx, query)
	ended = true
	if err != nil {
		endCall(cp.call, err)
		return nil, err
	}
	return wrapStmt(s, query, c, cp), nil
}

// execCopy sends a row of a COPY, or ends it when args is empty. A COPY
// prepared outside a recorded request is recorded from its first Exec in one.
func (s *stmt) execCopy(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	cp := s.copy
	if cp.call == nil && !cp.done {
		if a := recording.FromContext(ctx); a != nil {
			cp.call = s.c.w.startCopy(ctx, a, s.query, cp)
		}
	}
	ended := false
	defer s.endCopyIfPanicked(&ended)
	res, err := s.exec(ctx, args)
	ended = true
	call := cp.call
	if call == nil || err == driver.ErrSkip {
		return res, err
	}
	switch {
	case err != nil:
		s.endCopy(nil, err)
	case len(args) == 0:
		s.endCopy(res, nil)
	default:
		cp.rows++
	}
	return res, err
}

// endCopyIfPanicked ends the COPY's call with [convention.ErrPanicked]
// unless *ended: deferred around a row's Exec, it ends the call of a COPY
// whose driver panicked, as [convention.EndIfPanicked] does.
func (s *stmt) endCopyIfPanicked(ended *bool) {
	if !*ended && s.copy.call != nil {
		s.endCopy(nil, convention.ErrPanicked)
	}
}

// closeCopy closes a COPY statement, ending its call if an Exec has not.
func (s *stmt) closeCopy() error {
	err := s.s.Close()
	if s.copy.call != nil {
		s.endCopy(nil, err)
	}
	return err
}

// endCopy ends the COPY's call with the rows sent and, from res, the rows the
// server loaded.
func (s *stmt) endCopy(res driver.Result, err error) {
	cp := s.copy
	call := cp.call
	cp.call, cp.done = nil, true
	t0 := time.Now()
	response := rowsText(cp.rows) + " sent"
	if res != nil {
		if n, rerr := res.RowsAffected(); rerr == nil {
			call.SetAttr(AttrAffectedRows, strconv.FormatInt(n, 10))
			response = rowsText(n) + " copied"
		}
	}
	if err == nil {
		call.SetResponse(response)
	}
	call.Record().AddOverhead(time.Since(t0))
	endCall(call, err)
}
