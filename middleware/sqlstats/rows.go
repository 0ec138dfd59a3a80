package sqlstats

import (
	"context"
	"database/sql/driver"
	"io"
	"reflect"
	"strconv"
	"time"

	"github.com/goappstats/appstats/recording"
)

// rows wraps the rows of a recorded query: the query's call ends when they
// are closed, with the number of rows read and the error that ended the
// reading, if any: one of Next, or the cancellation of the query's context
// (or its transaction's) before the rows were read to the end, for which
// database/sql closes them and reports the context's error to the
// application.
//
// Only database/sql sees a driver.Rows, so rows claims every optional Rows
// interface and answers exactly as database/sql does when the driver's rows
// lack one: a ScanType of any, no length, nullability, precision or database
// type name, and no further result set.
type rows struct {
	r     driver.Rows
	call  *recording.ActiveCall
	ctx   context.Context // the query's
	txCtx context.Context // its transaction's, or nil
	n     int64
	eof   bool  // Next returned io.EOF
	err   error // the first failure of Next other than io.EOF
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsNextResultSet              = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeLength           = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)

func newRows(ctx, txCtx context.Context, r driver.Rows, c *recording.ActiveCall) *rows {
	return &rows{r: r, call: c, ctx: ctx, txCtx: txCtx}
}

func (r *rows) Columns() []string { return r.r.Columns() }

func (r *rows) Close() error {
	err := r.r.Close()
	if c := r.call; c != nil {
		r.call = nil
		t0 := time.Now()
		c.SetAttr(AttrReturnedRows, strconv.FormatInt(r.n, 10))
		failure := r.failure()
		if failure == nil {
			failure = err
		}
		if failure == nil {
			c.SetResponse(rowsText(r.n))
		}
		c.Record().AddOverhead(time.Since(t0))
		endCall(c, failure)
	}
	return err
}

// failure returns the error that ended the reading before Close: a failure
// of Next, or, when the rows were not read to the end, the error of a
// context that is done — database/sql closes the rows when the query's
// context or its transaction's is done, and the application gets that
// context's error.
func (r *rows) failure() error {
	if r.err != nil || r.eof {
		return r.err
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.txCtx != nil {
		return r.txCtx.Err()
	}
	return nil
}

func (r *rows) Next(dest []driver.Value) error {
	err := r.r.Next(dest)
	switch {
	case err == nil:
		r.n++
	case err == io.EOF:
		r.eof = true
	case r.err == nil:
		r.err = err
	}
	return err
}

func (r *rows) HasNextResultSet() bool {
	if x, ok := r.r.(driver.RowsNextResultSet); ok {
		return x.HasNextResultSet()
	}
	return false
}

func (r *rows) NextResultSet() error {
	if x, ok := r.r.(driver.RowsNextResultSet); ok {
		return x.NextResultSet()
	}
	return io.EOF
}

var anyType = reflect.TypeFor[any]()

func (r *rows) ColumnTypeScanType(index int) reflect.Type {
	if x, ok := r.r.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(index)
	}
	return anyType
}

func (r *rows) ColumnTypeDatabaseTypeName(index int) string {
	if x, ok := r.r.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(index)
	}
	return ""
}

func (r *rows) ColumnTypeLength(index int) (int64, bool) {
	if x, ok := r.r.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(index)
	}
	return 0, false
}

func (r *rows) ColumnTypeNullable(index int) (nullable, ok bool) {
	if x, ok := r.r.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(index)
	}
	return false, false
}

func (r *rows) ColumnTypePrecisionScale(index int) (precision, scale int64, ok bool) {
	if x, ok := r.r.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(index)
	}
	return 0, 0, false
}
