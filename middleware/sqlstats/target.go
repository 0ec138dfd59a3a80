package sqlstats

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/sqlnorm"
	"github.com/goappstats/appstats/recording"
)

// targetAttrs returns the attributes of the database a data source name
// opens, as the conventions for database client calls name them:
// db.namespace (the database's name, which they require when it is known
// without a call to the server), server.address and server.port. It reads
// only what the name says: PostgreSQL's URL (postgres://host:port/db) and
// keyword/value (host=h port=p dbname=db) forms, as pgx and lib/pq read
// them, and the DSN of github.com/go-sql-driver/mysql
// (user:pw@tcp(host:port)/db). A value the name leaves to a default or to
// the environment (PGDATABASE) is not sent; a name of no known form, a
// list of hosts, or a name whose user information could be read as its
// host or database (an unescaped "/" in the password of a URL, or of a
// MySQL DSN without /dbname) gives none. The user and the
// password are never read.
func targetAttrs(d sqlnorm.Dialect, dsn string) []recording.Attr {
	var db, host, port string
	switch d {
	case sqlnorm.PostgreSQL:
		db, host, port = postgresTarget(dsn)
	case sqlnorm.MySQL:
		db, host, port = mysqlTarget(dsn)
	}
	if strings.ContainsAny(host, ", ") || strings.Contains(port, ",") {
		host, port = "", "" // several hosts: the one a connection reaches is not known here
	}
	var attrs []recording.Attr
	if db != "" {
		attrs = append(attrs, recording.Attr{Key: convention.KeyDBNamespace, Value: db})
	}
	if host != "" {
		attrs = append(attrs, recording.Attr{Key: convention.KeyServerAddress, Value: host})
		if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
			attrs = append(attrs, recording.Attr{Key: convention.KeyServerPort, Value: port})
		}
	}
	return attrs
}

// postgresTarget reads the database, host and port of a PostgreSQL
// connection string.
func postgresTarget(dsn string) (db, host, port string) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		rest := dsn[strings.Index(dsn, "://")+3:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 && strings.ContainsAny(rest[:at], "/?#") {
			return "", "", "" // an "@" after the authority: the password may be read as the host
		}
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", ""
		}
		db, host, port = strings.TrimPrefix(u.Path, "/"), u.Hostname(), u.Port()
		q := u.Query()
		if v := q.Get("dbname"); v != "" {
			db = v
		}
		if v := q.Get("host"); v != "" {
			host = v
		}
		if v := q.Get("port"); v != "" {
			port = v
		}
		return db, host, port
	}
	for _, kv := range keywordValues(dsn) {
		switch kv[0] {
		case "dbname":
			db = kv[1]
		case "host":
			host = kv[1]
		case "port":
			port = kv[1]
		}
	}
	return db, host, port
}

// keywordValues splits a libpq keyword/value connection string
// (host=h dbname='my db') into its pairs; nil if it is not one.
func keywordValues(s string) [][2]string {
	var out [][2]string
	for {
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t\n\r\f\v")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			i := 1
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil // an unterminated quote
			}
			s = s[i+1:]
		} else {
			i := 0
			for ; i < len(s) && !strings.ContainsRune(" \t\n\r\f\v", rune(s[i])); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			s = s[i:]
		}
		out = append(out, [2]string{key, val.String()})
	}
}

// mysqlTarget reads the database, host and port of a DSN of
// github.com/go-sql-driver/mysql, [user[:password]@][net[(addr)]]/dbname[?params],
// as its ParseDSN splits it: at the last "/", and the user information at
// the last "@" before it. A "/" in the password of a DSN without /dbname
// (bob:hunter/2@tcp(db:3306)) is that last "/": a DSN with an "@" after
// its last "/", a database holding "(" or ")", or a network that is not
// one (net or net(addr), bob:hun/ter2) gives nothing — what it would read
// could be part of the password, and the driver refuses most of them.
func mysqlTarget(dsn string) (db, host, port string) {
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 || strings.IndexByte(dsn[slash:], '@') >= 0 {
		return "", "", ""
	}
	db = dsn[slash+1:]
	if q := strings.IndexByte(db, '?'); q >= 0 {
		db = db[:q]
	}
	if strings.ContainsAny(db, "()") {
		return "", "", "" // a socket's path (unix(/tmp/x.sock)) or a password's end
	}
	if v, err := url.PathUnescape(db); err == nil {
		db = v
	} else {
		db = ""
	}
	left := dsn[:slash]
	left = left[strings.LastIndexByte(left, '@')+1:] // net[(addr)]
	network := left
	open := strings.IndexByte(left, '(')
	if open >= 0 {
		if !strings.HasSuffix(left, ")") {
			return "", "", "" // not terminated: the driver refuses it
		}
		network = left[:open]
	}
	if !mysqlNetwork(network) {
		return "", "", "" // bob:hun/ter2: the password's start
	}
	if open < 0 {
		return db, "", ""
	}
	addr := left[open+1 : len(left)-1]
	switch network {
	case "tcp", "tcp4", "tcp6":
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			return db, addr, "" // a host without a port: the driver adds 3306
		}
		return db, h, p
	case "unix":
		return db, addr, ""
	}
	return db, "", ""
}

// mysqlNetwork reports whether s can be a DSN's network, as tcp or unix
// are: empty, or letters and digits.
func mysqlNetwork(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
