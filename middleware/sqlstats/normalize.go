package sqlstats

import (
	"strings"
	"sync"

	"github.com/goappstats/appstats/internal/sqlnorm"
)

// A statement is what the wrapper learns from a query's text, computed once
// per distinct text and cached.
type statement struct {
	text      string // normalized: literals replaced by ?, whitespace collapsed, comments dropped
	operation string // e.g. "SELECT", "CREATE TABLE"
	table     string // e.g. "users", or "" when none was found
	method    string // the call's method: operation and table
	prepare   string // the method of the call that prepares it
}

// maxScan bounds the part of a query text that is normalized and scanned:
// recorded summaries are short (the recorder clips them, 256 bytes by
// default), and a bulk statement of megabytes must not cost its size again
// on every call. Texts longer than this are not cached either.
const maxScan = 4096

// maxCache bounds the per-wrapper cache of parsed statements. An application
// that builds query texts dynamically would otherwise grow it without end;
// once full, the cache is reset.
const maxCache = 1024

// A cache maps raw query texts to their parsed statements, normalized in
// its dialect.
type cache struct {
	dialect sqlnorm.Dialect // set before the wrapper is used

	mu sync.RWMutex
	m  map[string]*statement
}

func (c *cache) get(query string) *statement {
	if len(query) > maxScan {
		return parseStatement(c.dialect, query)
	}
	c.mu.RLock()
	s := c.m[query]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	s = parseStatement(c.dialect, query)
	c.mu.Lock()
	if len(c.m) >= maxCache || c.m == nil {
		c.m = make(map[string]*statement)
	}
	c.m[query] = s
	c.mu.Unlock()
	return s
}

func parseStatement(d sqlnorm.Dialect, query string) *statement {
	var norm string
	if len(query) > maxScan {
		norm = normalize(d, query[:maxScan]) + "…"
	} else {
		norm = normalize(d, query)
	}
	op, table := Describe(norm)
	s := &statement{text: norm, operation: op, table: table}
	if op == "" {
		op = "QUERY"
	}
	s.method = op
	if table != "" {
		s.method = op + " " + table
	}
	s.prepare = "PREPARE " + s.method
	return s
}

// Normalize returns the query text as recorded when its dialect is not
// known: string, numeric, blob and every other kind of literal replaced by
// ?, comments removed and runs of white space collapsed to one space.
// Placeholders ($1, ?, :name, @name) and identifiers are kept. A list of two
// or more values or placeholders after IN becomes "IN (?, ...)", whatever
// its length. Two queries that differ only in their literal values
// normalize to the same text, which is how the recorder's analysis finds
// repeated queries.
//
// Not knowing the dialect, Normalize reads the text as PostgreSQL, MySQL
// and SQLite would, and hides whatever any of them takes as a literal or a
// comment: "…" is hidden unless it can only be an identifier, a string with
// a backslash before its closing quote may hide what follows it, and so may
// a string in MySQL's executable comment (/*! … */), which MySQL reads as
// code. Such a comment is kept as MySQL's code, its literals hidden
// (PostgreSQL and SQLite read it as a comment), and an IN list alone in one
// is collapsed too: "IN /*! (?, ...) */".
// [NormalizeFor] reads a text in its own dialect.
func Normalize(query string) string { return normalize(sqlnorm.Unknown, query) }

// NormalizeFor is [Normalize] for a statement of the given database system,
// named as in [WithSystem] ("postgresql", "mysql", "sqlite", or another
// OpenTelemetry db.system.name): the text is read by that dialect's rules —
// PostgreSQL's "…" identifiers, dollar-quoted strings ($$…$$, $tag$…$tag$),
// escape strings (E'…') and nested comments; MySQL's "…" strings, #
// comments, -- comments only before white space, comments that do not
// nest (as SQLite's), and executable comments (/*! … */, /*!50000 … */)
// whose content is code, kept with its literals hidden, and read as a
// comment too (a string in one may span its */: what either reading takes
// as a literal is hidden); SQLite's "…" taken as a string unless it can only be an
// identifier (after FROM, INTO, AS…, beside a dot, in a column list). A
// backslash in a PostgreSQL or MySQL string escapes the next byte or not
// by a server setting (standard_conforming_strings, NO_BACKSLASH_ESCAPES):
// such a text is read both ways, and what either reading takes as a literal
// is hidden, so a string with a backslash before a quote may hide what
// follows it. A system of no known dialect is read as [Normalize] reads it.
func NormalizeFor(system, query string) string { return normalize(sqlnorm.Of(system), query) }

func normalize(d sqlnorm.Dialect, query string) string {
	return collapseIn(sqlnorm.Normalize(d, query))
}

// collapseIn rewrites the IN lists of a normalized statement: "IN (?, ?, ?)"
// or "IN ($1, $2)" becomes "IN (?, ...)". Quoted identifiers are left alone.
func collapseIn(s string) string {
	var b []byte // nil until something changes
	last := 0    // s[:last] is done: copied to b if b != nil
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '`':
			i = skipQuoted(s, i, c)
			continue
		case c == '[':
			if j := strings.IndexByte(s[i:], ']'); j >= 0 {
				i += j + 1
			} else {
				i = len(s)
			}
			continue
		case isIdent(c) || c == '$':
			j := i + 1
			for j < len(s) && (isIdent(s[j]) || s[j] == '$') {
				j++
			}
			if j-i == 2 && (c == 'i' || c == 'I') && (s[i+1] == 'n' || s[i+1] == 'N') {
				k := execInList(s, j) // after IN /*! when it holds the list
				if end, ok := inList(s, k); ok {
					if b == nil {
						b = make([]byte, 0, len(s))
					}
					b = append(b, s[last:k]...)
					b = append(b, " (?, ...)"...)
					last = end
					i = end
					continue
				}
			}
			i = j
			continue
		}
		i++
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// execInList returns the index after the opener of MySQL's executable
// comment at s[i:] (" /*! " or " /*M! ", as sqlnorm writes one) when the
// comment holds a list alone and closes after it: IN /*! (?,?,?) */ is
// collapsed as IN (?,?,?) is. Otherwise it returns i.
func execInList(s string, i int) int {
	j := i
	if j < len(s) && s[j] == ' ' {
		j++
	}
	switch {
	case strings.HasPrefix(s[j:], "/*!"):
		j += 3
	case strings.HasPrefix(s[j:], "/*M!"):
		j += 4
	default:
		return i
	}
	if end, ok := inList(s, j); ok && strings.HasPrefix(strings.TrimPrefix(s[end:], " "), "*/") {
		return j
	}
	return i
}

// inList reports whether s[i:] starts with " (" and a list of two or more
// placeholders, and returns the index after its ")".
func inList(s string, i int) (end int, ok bool) {
	if i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != '(' {
		return 0, false
	}
	i++
	n := 0
	for {
		if i < len(s) && s[i] == ' ' {
			i++
		}
		switch {
		case i < len(s) && s[i] == '?':
			i++
		case i+1 < len(s) && s[i] == '$' && isDigit(s[i+1]):
			i += 2
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		case i+1 < len(s) && (s[i] == ':' || s[i] == '@') && isIdentStart(s[i+1]):
			i += 2
			for i < len(s) && isIdent(s[i]) {
				i++
			}
		default:
			return 0, false
		}
		n++
		if i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case ',':
			i++
			continue
		case ')':
			if n < 2 {
				return 0, false
			}
			return i + 1, true
		}
		return 0, false
	}
}

// skipQuoted returns the index after the literal or identifier opened by q at
// i; a doubled quote inside is an escaped quote. An unterminated literal runs
// to the end of the text.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}
func isIdent(c byte) bool { return isIdentStart(c) || isDigit(c) }

// A token of a normalized statement: a word (keyword or identifier, possibly
// quoted and dotted) or a single punctuation byte.
type token struct {
	text string
	word bool
}

// tokens splits a normalized statement, keeping at most limit tokens.
func tokens(s string, limit int) []token {
	out := make([]token, 0, min(limit, len(s)/2+1))
	for i := 0; i < len(s) && len(out) < limit; {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case isIdentStart(c) || c == '"' || c == '`' || c == '[':
			j := i
			for j < len(s) {
				switch d := s[j]; {
				case d == '"' || d == '`':
					j = skipQuoted(s, j, d)
				case d == '[':
					k := strings.IndexByte(s[j:], ']')
					if k < 0 {
						j = len(s)
					} else {
						j += k + 1
					}
				case isIdent(d) || d == '$':
					j++
				case d == '.' && j+1 < len(s) && (isIdentStart(s[j+1]) || s[j+1] == '"' || s[j+1] == '`' || s[j+1] == '['):
					j++
				default:
					goto done
				}
			}
		done:
			out = append(out, token{text: s[i:j], word: true})
			i = j
		case c == '/' && strings.HasPrefix(s[i:], "/*!"):
			// The delimiters of MySQL's executable comments (kept
			// by normalizing, their content being code) are read as
			// white space.
			i += len("/*!")
		case c == '/' && strings.HasPrefix(s[i:], "/*M!"):
			i += len("/*M!")
		case c == '*' && strings.HasPrefix(s[i:], "*/"):
			i += len("*/")
		default:
			out = append(out, token{text: s[i : i+1]})
			i++
		}
	}
	return out
}

// maxTokens bounds the scan for the operation and table: they are found near
// the start of any statement an application sends.
const maxTokens = 256

// Describe returns the operation of a normalized statement (its first
// keyword, upper case; with the object kind for DDL, such as "CREATE TABLE")
// and the first table it names (after FROM, INTO, UPDATE, JOIN, TABLE or ON),
// or "" when it names none. A WITH clause is skipped to the main statement.
func Describe(normalized string) (operation, table string) {
	toks := tokens(normalized, maxTokens)
	i := 0
	for i < len(toks) && toks[i].text == "(" {
		i++
	}
	if i >= len(toks) || !toks[i].word {
		return "", ""
	}
	op := strings.ToUpper(toks[i].text)
	if op == "WITH" {
		depth := 0
		for i++; i < len(toks); i++ {
			switch t := toks[i].text; {
			case t == "(":
				depth++
			case t == ")":
				depth--
			case depth == 0 && toks[i].word && isDML(strings.ToUpper(t)):
				op = strings.ToUpper(t)
				goto found
			}
		}
		return op, ""
	}
found:
	rest := toks[i+1:]
	switch op {
	case "SELECT", "DELETE":
		return op, nameAfter(rest, "FROM", "JOIN")
	case "INSERT", "REPLACE", "MERGE", "UPSERT":
		return op, nameAfter(rest, "INTO")
	case "UPDATE":
		return op, firstName(rest)
	case "CREATE", "DROP", "ALTER", "TRUNCATE":
		for j, t := range rest {
			if !t.word {
				break
			}
			switch k := strings.ToUpper(t.text); k {
			case "TABLE", "VIEW", "SEQUENCE", "SCHEMA", "DATABASE":
				return op + " " + k, firstName(rest[j+1:])
			case "INDEX", "TRIGGER":
				return op + " " + k, nameAfter(rest[j+1:], "ON")
			case "FUNCTION", "PROCEDURE", "TYPE", "EXTENSION", "USER", "ROLE":
				return op + " " + k, ""
			}
		}
		if op == "TRUNCATE" {
			return op, firstName(rest)
		}
		return op, ""
	}
	return op, ""
}

func isDML(k string) bool {
	switch k {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE":
		return true
	}
	return false
}

// nameAfter returns the first table name that follows one of the keywords.
func nameAfter(toks []token, keywords ...string) string {
	for i, t := range toks {
		if !t.word {
			continue
		}
		for _, k := range keywords {
			if strings.EqualFold(t.text, k) {
				if name := firstName(toks[i+1:]); name != "" {
					return name
				}
			}
		}
	}
	return ""
}

// firstName returns the name at the start of toks, skipping modifiers such as
// IF NOT EXISTS, ONLY or OR REPLACE; "" when a subquery or a keyword comes
// first.
func firstName(toks []token) string {
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.word {
			return ""
		}
		switch strings.ToUpper(t.text) {
		case "IF", "NOT", "EXISTS", "ONLY", "LOW_PRIORITY", "IGNORE", "TOP", "TEMP", "TEMPORARY", "LATERAL", "DISTINCT":
			continue
		case "OR":
			i++ // OR REPLACE, OR IGNORE, OR ROLLBACK…
			continue
		case "SELECT", "WITH", "VALUES", "SET", "WHERE":
			return ""
		}
		return unquoteName(t.text)
	}
	return ""
}

// maxTable bounds a recorded table name.
const maxTable = 64

// unquoteName strips identifier quotes from each part of a dotted name.
func unquoteName(s string) string {
	if strings.ContainsAny(s, "\"`[") {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '"', '`', '[', ']':
				if i+1 < len(s) && s[i+1] == c && c != '[' && c != ']' {
					b.WriteByte(c)
					i++
				}
			default:
				b.WriteByte(c)
			}
		}
		s = b.String()
	}
	if len(s) > maxTable {
		s = s[:maxTable]
	}
	return s
}
