package sqlstats

import (
	"database/sql/driver"
	"reflect"
	"strings"
)

// driverSystems maps the import paths of well-known database/sql drivers to
// the db.system.name of the database they talk to (OpenTelemetry's values).
var driverSystems = []struct{ pkg, system string }{
	{"github.com/jackc/pgx", "postgresql"},
	{"github.com/lib/pq", "postgresql"},
	{"modernc.org/sqlite", "sqlite"},
	{"github.com/mattn/go-sqlite3", "sqlite"},
	{"github.com/ncruces/go-sqlite3", "sqlite"},
	{"zombiezen.com/go/sqlite", "sqlite"},
	{"github.com/go-sql-driver/mysql", "mysql"},
	{"github.com/microsoft/go-mssqldb", "microsoft.sql_server"},
	{"github.com/denisenkom/go-mssqldb", "microsoft.sql_server"},
	{"github.com/sijms/go-ora", "oracle.db"},
	{"github.com/godror/godror", "oracle.db"},
	{"github.com/ClickHouse/clickhouse-go", "clickhouse"},
	{"github.com/trinodb/trino-go-client", "trino"},
	{"github.com/ibmdb/go_ibm_db", "ibm.db2"},
	{"github.com/nakagami/firebirdsql", "firebirdsql"},
	{"github.com/SAP/go-hdb", "sap.hana"},
	{"github.com/googleapis/go-sql-spanner", "gcp.spanner"},
}

// systemOf returns the db.system.name of the database a driver talks to,
// found from the package that defines the driver's type, or "" for a
// driver it does not know (the exporter then writes "other_sql").
func systemOf(d driver.Driver) string {
	if d == nil {
		return ""
	}
	t := reflect.TypeOf(d)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	for _, ds := range driverSystems {
		if pkg == ds.pkg || strings.HasPrefix(pkg, ds.pkg+"/") {
			return ds.system
		}
	}
	return ""
}
