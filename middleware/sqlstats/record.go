package sqlstats

import (
	"context"
	"database/sql/driver"
	"errors"
	"strconv"
	"time"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/sqlnorm"
	"github.com/goappstats/appstats/recording"
)

// Service is the service name of the calls this package records: "sql".
const Service = convention.ServiceSQL

// Attribute keys, from the OpenTelemetry semantic conventions for database
// client calls where one exists.
const (
	AttrSystem       = convention.KeyDBSystemName           // "db.system.name": see WithSystem
	AttrQueryText    = convention.KeyDBQueryText            // "db.query.text": the statement, normalized
	AttrQuerySummary = convention.KeyDBQuerySummary         // "db.query.summary": the call's method, "SELECT users"
	AttrOperation    = convention.KeyDBOperationName        // "db.operation.name": of calls without a statement, "COMMIT"
	AttrReturnedRows = convention.KeyDBResponseReturnedRows // "db.response.returned_rows"
	AttrStatusCode   = convention.KeyDBResponseStatusCode   // "db.response.status_code": the database's code of an error, such as a SQLSTATE
	AttrAffectedRows = convention.KeyDBAffectedRows         // "appstats.db.affected_rows": not in the conventions
	AttrParamPrefix  = convention.KeyDBQueryParameterPrefix // "db.query.parameter.", then the name or position
	AttrNamespace    = convention.KeyDBNamespace            // "db.namespace": the database's name, from the data source name given to Open
	AttrAddress      = convention.KeyServerAddress          // "server.address": the database server's host (or socket), from the data source name given to Open
	AttrPort         = convention.KeyServerPort             // "server.port": its port, when the data source name gives one
)

// Limits on recorded arguments.
const (
	maxArgs     = 16
	maxArgValue = 64
)

// A wrapper holds what all the connections of one wrapped driver share.
type wrapper struct {
	cfg    *config
	system string // db.system.name: WithSystem's, else the driver's (see systemOf)
	// target: db.namespace, server.address and server.port, read from
	// the data source name given to Open (see targetAttrs); none for a
	// wrapper that may open several.
	target []recording.Attr
	cache  cache
}

func newWrapper(opts []Option) *wrapper {
	w := &wrapper{cfg: newConfig(opts)}
	w.system = w.cfg.system
	w.cache.dialect = sqlnorm.Of(w.cfg.system)
	return w
}

// detect sets the wrapper's SQL dialect, and its database system, from the
// driver's package when [WithSystem] named no known one. It runs before the
// wrapper is used.
func (w *wrapper) detect(d driver.Driver) {
	if w.cache.dialect == sqlnorm.Unknown {
		w.cache.dialect = sqlnorm.OfDriver(d)
	}
	if w.system == "" {
		w.system = systemOf(d)
	}
}

// startStmt starts the call of a statement in a's request, made with ctx.
func (w *wrapper) startStmt(ctx context.Context, a *recording.ActiveRecord, query string, prepare bool, args []driver.NamedValue) *recording.ActiveCall {
	t0 := time.Now()
	st := w.cache.get(query)
	method := st.method
	if prepare {
		method = st.prepare
	}
	return w.startParsed(ctx, a, st, method, args, t0)
}

// startParsed starts a call named method of statement st in a's request.
// t0 is when the work for the call began.
//
// The time spent outside StartCall (which counts its own) is added to the
// record's overhead.
func (w *wrapper) startParsed(ctx context.Context, a *recording.ActiveRecord, st *statement, method string, args []driver.NamedValue, t0 time.Time) *recording.ActiveCall {
	t1 := time.Now()
	c := a.StartChild(recording.ParentFromContext(ctx), Service, method)
	if c == nil {
		a.AddOverhead(t1.Sub(t0))
		return nil
	}
	t2 := time.Now()
	defer func() { a.AddOverhead(t1.Sub(t0) + time.Since(t2)) }()
	c.SetRequest(st.text)
	var buf [3]recording.Attr
	attrs := buf[:0]
	if w.system != "" {
		attrs = append(attrs, recording.Attr{Key: AttrSystem, Value: w.system})
	}
	attrs = append(attrs,
		recording.Attr{Key: AttrQueryText, Value: st.text},
		recording.Attr{Key: AttrQuerySummary, Value: method})
	c.SetAttrs(attrs...)
	if len(w.target) > 0 {
		c.SetAttrs(w.target...)
	}
	if w.cfg.args && len(args) > 0 {
		w.recordArgs(a, c, st, args)
	}
	return c
}

// startOp starts a call without a statement (BEGIN, COMMIT, PING…).
func (w *wrapper) startOp(ctx context.Context, a *recording.ActiveRecord, op string) *recording.ActiveCall {
	c := a.StartChild(recording.ParentFromContext(ctx), Service, op)
	if c == nil {
		return nil
	}
	if w.system != "" {
		c.SetAttrs(recording.Attr{Key: AttrSystem, Value: w.system}, recording.Attr{Key: AttrOperation, Value: op})
	} else {
		c.SetAttr(AttrOperation, op)
	}
	if len(w.target) > 0 {
		c.SetAttrs(w.target...)
	}
	return c
}

// endCall ends c with err. The database's own code of a failure — the
// SQLSTATE of PostgreSQL drivers (pgx, lib/pq: an error with a
// SQLState() string method), the result code of modernc.org/sqlite (a
// Code() int method) — is its db.response.status_code and its error.type;
// failures without one get the error's type (see [recording.ActiveCall.End]).
func endCall(c *recording.ActiveCall, err error) {
	if err != nil && c != nil {
		if code := statusCode(err); code != "" {
			c.SetAttrs(recording.Attr{Key: AttrStatusCode, Value: code}, recording.Attr{Key: convention.KeyErrorType, Value: code})
		}
	}
	c.End(err)
}

func statusCode(err error) string {
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		return state.SQLState()
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		return strconv.Itoa(coded.Code())
	}
	return ""
}

func (w *wrapper) recordArgs(a *recording.ActiveRecord, c *recording.ActiveCall, st *statement, args []driver.NamedValue) {
	red := a.Recorder().Redaction()
	maskPositional := red.SecretName(st.text)
	for i, nv := range args {
		if i == maxArgs {
			break
		}
		var key string
		secret := false
		if nv.Name != "" {
			key = nv.Name
			secret = red.SecretName(nv.Name)
		} else {
			key = strconv.Itoa(i)
			secret = maskPositional
		}
		v := recording.Redacted
		if !secret {
			v = argText(red, nv.Value)
		}
		c.SetAttr(AttrParamPrefix+key, v)
	}
}

// endExec ends the call of an Exec, noting the rows affected.
func endExec(c *recording.ActiveCall, res driver.Result, err error) {
	if c == nil {
		return
	}
	if err == driver.ErrSkip {
		c.Discard()
		return
	}
	if err == nil && res != nil {
		t0 := time.Now()
		if n, rerr := res.RowsAffected(); rerr == nil {
			c.SetAttr(AttrAffectedRows, strconv.FormatInt(n, 10))
			c.SetResponse(rowsText(n) + " affected")
		}
		c.Record().AddOverhead(time.Since(t0))
	}
	endCall(c, err)
}

// endQuery ends the call of a Query that failed, or returns the rows wrapped
// so that the call ends when they are closed. ctx is the query's, txCtx its
// transaction's (or nil).
func endQuery(ctx, txCtx context.Context, c *recording.ActiveCall, rows driver.Rows, err error) driver.Rows {
	if c == nil {
		return rows
	}
	if err == driver.ErrSkip {
		c.Discard()
		return rows
	}
	if err != nil || rows == nil {
		endCall(c, err)
		return rows
	}
	return newRows(ctx, txCtx, rows, c)
}

// rowsText returns "1 row" or "n rows".
func rowsText(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.FormatInt(n, 10) + " rows"
}
