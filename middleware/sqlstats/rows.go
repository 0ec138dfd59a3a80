package sqlstats

import (
	"database/sql/driver"
	"io"
	"reflect"
	"strconv"
	"time"

	"github.com/goappstats/appstats/recording"
)

// rows wraps the rows of a recorded query: the query's call ends when they
// are closed, with the number of rows read.
//
// Only database/sql sees a driver.Rows, so rows claims every optional Rows
// interface and answers exactly as database/sql does when the driver's rows
// lack one: a ScanType of any, no length, nullability, precision or database
// type name, and no further result set.
type rows struct {
	r    driver.Rows
	call *recording.ActiveCall
	n    int64
	err  error // the first failure of Next other than io.EOF
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

func newRows(r driver.Rows, c *recording.ActiveCall) *rows { return &rows{r: r, call: c} }

func (r *rows) Columns() []string { return r.r.Columns() }

func (r *rows) Close() error {
	err := r.r.Close()
	if c := r.call; c != nil {
		r.call = nil
		t0 := time.Now()
		c.SetAttr(AttrReturnedRows, strconv.FormatInt(r.n, 10))
		c.SetResponse(rowsText(r.n))
		c.Record().AddOverhead(time.Since(t0))
		if r.err != nil {
			c.End(r.err) // the failure that ended the reading, not Close's
		} else {
			c.End(err)
		}
	}
	return err
}

func (r *rows) Next(dest []driver.Value) error {
	err := r.r.Next(dest)
	if err == nil {
		r.n++
	} else if err != io.EOF && r.err == nil {
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
