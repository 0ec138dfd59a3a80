// Package sqlnorm normalizes SQL statements for recording: a lexer per
// dialect (PostgreSQL, MySQL, SQLite) replaces every literal — strings,
// numbers, blobs and bit strings, PostgreSQL's escape strings (E'…') and
// dollar-quoted strings ($$…$$, $tag$…$tag$), the elements of ARRAY[…] —
// by ?, drops comments (-- …, MySQL's # …, /* … */) and collapses white
// space, keeping keywords, identifiers, quoted identifiers and
// placeholders. A PostgreSQL routine's dollar-quoted body in PL/pgSQL or
// SQL — a DO block's, a CREATE FUNCTION's or PROCEDURE's after AS, its
// language named once in the text (LANGUAGE plpgsql, before or after it;
// a DO block's is plpgsql when none is named) — is code, read as the
// statements around it are (DO $$ BEGIN PERFORM refresh(?); END $$);
// another language's body (plpython3u, plv8), whose strings may be quoted
// otherwise, is hidden whole. Normalized text never holds a value a statement carried as
// a literal. Comments are read as each dialect reads them: /* … */ nests in
// PostgreSQL and not in MySQL and SQLite (where the first */ ends it), and
// MySQL's -- opens a comment only before white space, a control character
// or the end of the text (1--'x' is 1 - -'x' there).
//
// Where a token is ambiguous — SQLite and MySQL read "…" as an identifier or
// as a string depending on what the database holds — it is taken as a
// literal unless it can only be an identifier where it stands. A statement
// of unknown dialect is read by all three lexers and a byte any of them
// takes as part of a literal or comment is hidden: more is hidden than
// needed, nothing that any of them would call a literal is kept (a quoted
// identifier that spans another reading's comment is hidden whole). A
// password written without a string's quotes (a syntax error on the
// server) is hidden as a literal, the run of tokens up to white space or
// , ; ) where it stands: after PASSWORD or IDENTIFIED [WITH plugin] BY in a
// CREATE, ALTER or DROP of a USER or ROLE (told by the statement's second
// word: ALTER TABLE user … is not one), IDENTIFIED BY in GRANT and CLONE
// INSTANCE, SET PASSWORD [FOR user] =, [MASTER_|SOURCE_]PASSWORD = in
// CHANGE MASTER, CHANGE REPLICATION SOURCE and START REPLICA or
// GROUP_REPLICATION; after
// REPLACE (MySQL's current password) and inside PASSWORD( and
// OLD_PASSWORD( (MariaDB) in those statements; after PASSWORD, sslpassword
// or "password" in the OPTIONS of a foreign server, user mapping or
// foreign table (MySQL's CREATE SERVER, PostgreSQL's foreign data
// wrappers, IMPORT FOREIGN SCHEMA); and SQLite's encryption keys, where a
// bare word is valid: PRAGMA [schema.]key, rekey, hexkey, hexrekey,
// textkey or textrekey = x (or (x)), the pragma's name quoted or not,
// ATTACH … KEY x. Each statement of a text is told by its own first words
// (SELECT 1; PRAGMA key = x holds a key), and what a statement's words set
// ends at its ; (ATTACH … AS k; SELECT key FROM k.kv keeps FROM). A
// statement inside another — a routine's, trigger's or event's body
// (CREATE PROCEDURE p() BEGIN ALTER USER u IDENTIFIED BY x; END, CREATE
// EVENT … DO GRANT …), a compound statement, a DO block read by a dialect
// where $$ does not quote, MariaDB's SET STATEMENT var = value FOR
// <statement> — is told by its own first words too: in any statement but
// SELECT, INSERT, UPDATE, DELETE, WITH, VALUES and TABLE, each CREATE,
// ALTER, DROP, GRANT, CHANGE, CLONE, SET, START, PRAGMA, ATTACH or IMPORT
// is read as a statement's first word, and in a DO statement
// PASSWORD and IDENTIFIED are read as in a role's wherever they stand —
// but for a body's SELECT, INSERT, UPDATE, DELETE, REPLACE or WITH (one
// after BEGIN, THEN, ELSE, DO, LOOP, REPEAT, FOR EACH ROW, BEGIN ATOMIC or
// a routine's parameters), which holds no statement up to its ;: its SET
// is a clause and its password a column (CREATE TRIGGER … BEGIN UPDATE
// users SET password = NEW.pw; … keeps NEW.pw).
// Where an executable comment stands at a password or inside its run
// (IDENTIFIED BY /*!80000 a */ b), the run goes on across white space and
// comments up to , ; or ): MySQL reads the comment's content as the
// password, a reading of the comment as one what follows it.
//
// Where a string ends may also depend on a server setting the client cannot
// see: whether a backslash escapes a quote (MySQL's and MariaDB's default,
// PostgreSQL with standard_conforming_strings off) or is an ordinary
// character (PostgreSQL's default, MySQL with NO_BACKSLASH_ESCAPES). A text
// with a backslash is read both ways, and what either reading takes as a
// literal is hidden: 'C:\', 'pw' hides 'pw' in MySQL, 'it\'s pw' hides pw
// in PostgreSQL. What only the other reading hides is written as one ?
// with the literals next to it; where the readings agree, the text is
// written as one without a backslash would be, each literal its own ?.
// Statements that differ only after a backslash-escaped quote may thus be
// normalized to the same text.
//
// MySQL runs the content of an executable comment — /*! … */, the
// versioned /*!50000 … */ (when the server is that recent) and MariaDB's
// /*M! … */ — as code, so a string in it may span the */ that a reader of
// comments would take as its end: /*! 'a */ , pw, ' */ is one string. In
// MySQL a text with such a comment is read both ways, with the comment as
// code and as a comment, what either reading takes as a literal is hidden,
// and it is written by the first: the content is kept between its opener
// (without the version's digits) and */, its literals replaced —
// SELECT /*!50000 STRAIGHT_JOIN */ a FROM t WHERE p = 'pw' is written
// SELECT /*! STRAIGHT_JOIN */ a FROM t WHERE p = ?. A version's five or
// six digits glued to a word are taken as a version (MySQL reads
// /*!50000STRAIGHT_JOIN*/ as STRAIGHT_JOIN), unless what follows could
// continue a number (e, x, b: 500001e5 is 50000 and 1e5 to a server that
// reads five digits), and the comment is then written with a space inside
// each delimiter, as /*! STRAIGHT_JOIN */. The Unknown dialect reads such a
// text as MySQL's code too, and writes it by that reading, as MySQL's is
// written (PostgreSQL and SQLite read the comment as one: a hint is kept),
// what any dialect takes as a literal or an ordinary comment hidden.
//
// Package sqlstats records statements this way; package otelexport's bridge
// normalizes the query texts of bridged database spans with it too.
package sqlnorm

import (
	"bytes"
	"reflect"
	"strings"
)

// A Dialect is a family of SQL syntax.
type Dialect uint8

// The dialects.
const (
	Unknown    Dialect = iota // read by every lexer below; hides the union of what they hide
	PostgreSQL                // also CockroachDB, Redshift and other PostgreSQL wire-compatible systems
	MySQL                     // also MariaDB and TiDB
	SQLite
)

// String returns the dialect's OpenTelemetry db.system.name: "postgresql",
// "mysql", "sqlite", or "" for Unknown.
func (d Dialect) String() string {
	switch d {
	case PostgreSQL:
		return "postgresql"
	case MySQL:
		return "mysql"
	case SQLite:
		return "sqlite"
	}
	return ""
}

// Of returns the dialect of a database system named as OpenTelemetry's
// db.system.name (or the older db.system) names it: "postgresql",
// "cockroachdb", "mysql", "mariadb", "sqlite"…; Unknown for any other.
func Of(system string) Dialect {
	switch strings.ToLower(system) {
	case "postgresql", "postgres", "pg", "cockroachdb", "redshift", "aws.redshift", "yugabytedb", "timescaledb":
		return PostgreSQL
	case "mysql", "mariadb", "tidb", "memsql", "singlestore":
		return MySQL
	case "sqlite", "sqlite3":
		return SQLite
	}
	return Unknown
}

// OfDriver returns the dialect of a database/sql driver (or connector) from
// the package that defines its type: github.com/jackc/pgx and
// github.com/lib/pq are PostgreSQL, github.com/go-sql-driver/mysql is MySQL,
// modernc.org/sqlite, github.com/mattn/go-sqlite3 and other packages named
// for SQLite are SQLite. Any other driver is Unknown.
func OfDriver(driver any) Dialect {
	t := reflect.TypeOf(driver)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return Unknown
	}
	p := strings.ToLower(t.PkgPath())
	switch {
	case strings.Contains(p, "sqlite"):
		return SQLite
	case strings.Contains(p, "jackc/pgx"), strings.HasSuffix(p, "lib/pq"), strings.Contains(p, "postgres"):
		return PostgreSQL
	case strings.Contains(p, "mysql"), strings.Contains(p, "mariadb"):
		return MySQL
	}
	return Unknown
}

// Normalize returns query as recorded in dialect d: literals replaced by ?,
// comments dropped, runs of white space collapsed to one space, everything
// else — keywords, identifiers, quoted identifiers, placeholders, operators
// — kept. A text with a backslash is read with and without backslash
// escapes in PostgreSQL and MySQL, and one with an executable comment
// (/*! … */) with its content as code and as a comment in MySQL (see the
// package doc). The result is never longer than query.
func Normalize(d Dialect, query string) string {
	if d == Unknown {
		return normalizeUnknown(query)
	}
	if d != SQLite && strings.IndexByte(query, '\\') >= 0 {
		// Where a string ends may depend on the server's reading of
		// backslashes: hide what either reading takes as a literal.
		return normalizeUnion(query, newLexer(query, d), []*lexer{newLexer(query, d), newAltLexer(query, d)})
	}
	return normalizePlain(query, d)
}

// normalizePlain writes query's tokens in d's reading.
func normalizePlain(query string, d Dialect) string {
	w := writer{b: make([]byte, 0, len(query))}
	l := newLexer(query, d)
	for {
		k, start, end, ok := l.next()
		if !ok {
			break
		}
		w.token(k, query[start:end])
	}
	if l.sawExec {
		// Rare: an executable comment (see normalizeExec).
		return normalizeExec(query)
	}
	if l.pw != pwNone || l.hadPw {
		// Rare: a statement that may hold a password written
		// without quotes (see lexer.password).
		return normalizeUnion(query, newLexer(query, d), []*lexer{newLexer(query, d)})
	}
	if d == MySQL && bytes.Contains(w.b, []byte("--")) {
		// Rare: two minus signs, which must not be written as a
		// comment (see writer.dashes).
		return normalizeDashes(query)
	}
	return string(w.b)
}

// normalizeDashes is normalizePlain in MySQL, for a text written with two
// minus signs.
func normalizeDashes(query string) string {
	w := writer{b: make([]byte, 0, len(query))}
	l := newLexer(query, MySQL)
	for {
		k, start, end, ok := l.next()
		if !ok {
			break
		}
		if k > kComment {
			w.afterDashes(query[start:end])
		}
		w.token(k, query[start:end])
	}
	return w.String()
}

// writer builds a normalized text from tokens.
type writer struct {
	b     []byte
	space bool // white space or a comment since the last token written
	lit   bool // the last token written is a literal's ?
	// execPad: the executable comment open is written with spaces
	// inside its delimiters (see exec).
	execPad bool
}

func (w *writer) token(k kind, text string) {
	switch k {
	case kSpace, kComment:
		w.space = true
		return
	}
	if w.space && len(w.b) > 0 {
		w.b = append(w.b, ' ')
	}
	w.space = false
	w.lit = k == kLiteral
	if w.lit {
		w.b = append(w.b, '?')
		return
	}
	w.b = append(w.b, text...)
}

// exec returns how the executable comment's opener or */, tok, is
// written (execText), and whether a space is written after it. An opener
// whose version's digits were dropped is written with a space after it, and
// its */ with one before, as /*!50000 STRAIGHT_JOIN */ is, however they
// were spaced: /*!50000STRAIGHT_JOIN*/ is written /*! STRAIGHT_JOIN */
// (the digits make room for the spaces, so the text does not grow). A
// single digit makes room for one space only, and is not glued to a word
// (see versionGlued): /*!0!*/ is written /*!!*/.
func (w *writer) exec(tok string) (text string, spaceAfter bool) {
	text = execText(tok)
	if text == "*/" {
		if w.execPad {
			w.space, w.execPad = true, false
		}
		return text, false
	}
	w.execPad = len(tok) >= len(text)+2
	return text, w.execPad
}

// afterDashes is called before each significant token, text (empty for a
// ?), of a MySQL text: when the text written ends in two minus signs (see
// dashes), no space is written after them, and only one minus sign is kept
// before a control character. (It is not part of token, which is kept
// small enough to inline.)
func (w *writer) afterDashes(text string) {
	if w.dashes() {
		w.space = false
		if text != "" && isSpaceOrControl(text[0]) {
			w.trimDashes()
		}
	}
}

// dashes reports whether the text written ends in --. In MySQL they can be
// two minus signs, for -- opens a comment there only before white space, a
// control character or the end of the text; no such byte is written after
// them (and a run of minus signs the text would end with, or that a control
// character follows, is written as one), so that the normalized text reads
// the same. (--x and - -x are the same there; a minus sign at the end or
// before a control character is an error.)
func (w *writer) dashes() bool {
	n := len(w.b)
	return n >= 2 && w.b[n-1] == '-' && w.b[n-2] == '-'
}

// trimDashes writes the run of minus signs the text ends with as one.
func (w *writer) trimDashes() {
	for w.dashes() {
		w.b = w.b[:len(w.b)-1]
	}
}

// String returns the text written, a run of minus signs at its end
// written as one (see dashes).
func (w *writer) String() string {
	w.trimDashes()
	return string(w.b)
}

// hidden bits of a byte, by what the lexers found it in.
const (
	inLiteral = 1 << iota
	inComment
)

// normalizeUnknown reads query with every dialect's lexer (and, when it
// holds a backslash, with PostgreSQL's and MySQL's other readings of
// backslashes too) and writes it as normalizeUnion does, by the PostgreSQL
// reading; when one finds an executable comment, normalizeUnion reads it
// again by normalizeUnknownExec.
func normalizeUnknown(query string) string {
	lexers := []*lexer{newLexer(query, PostgreSQL), newLexer(query, MySQL), newLexer(query, SQLite)}
	if strings.IndexByte(query, '\\') >= 0 {
		lexers = append(lexers, newAltLexer(query, PostgreSQL), newAltLexer(query, MySQL))
	}
	return normalizeUnion(query, newLexer(query, PostgreSQL), lexers)
}

// normalizeExec normalizes a MySQL text that holds an executable comment:
// MySQL runs its content as code (a versioned one's if the server is
// recent enough), and a string in it may span its */. The text is read
// with executable comments as code and as comments (and, when it holds a
// backslash, with either reading of backslashes), and written by the
// first reading: the content of an executable comment is kept between its
// opener and */, what either reading takes as a literal is hidden.
func normalizeExec(query string) string {
	lexers := []*lexer{newExecLexer(query, false), newLexer(query, MySQL)}
	if strings.IndexByte(query, '\\') >= 0 {
		lexers = append(lexers, newExecLexer(query, true), newAltLexer(query, MySQL))
	}
	return normalizeUnion(query, newExecLexer(query, false), lexers)
}

// normalizeUnknownExec is normalizeUnknown for a text that holds an
// executable comment: it is read by every dialect's lexer and by MySQL's
// reading of executable comments as code (with either reading of
// backslashes when it holds one), and written by that last reading, as
// normalizeExec writes it: PostgreSQL and SQLite read the comment as one,
// and MySQL runs it, so its content is kept, its literals hidden.
func normalizeUnknownExec(query string) string {
	lexers := []*lexer{newExecLexer(query, false), newLexer(query, PostgreSQL), newLexer(query, MySQL), newLexer(query, SQLite)}
	if strings.IndexByte(query, '\\') >= 0 {
		lexers = append(lexers, newExecLexer(query, true), newAltLexer(query, PostgreSQL), newAltLexer(query, MySQL))
	}
	return normalizeUnion(query, newExecLexer(query, false), lexers)
}

// normalizeUnion reads query with each of lexers, marks each byte that any
// of them takes as part of a literal or a comment, and writes the tokens of
// the reading of wl, a fresh lexer: a literal of that reading becomes ?, as
// do other tokens with a byte in a literal (one ? for a run of them and the
// literals next to them), a token wholly in comments is dropped. When wl
// reads executable comments as code, an executable comment read as a
// comment marks nothing (what it holds is code to wl, which hides its
// literals). When a MySQL lexer of lexers finds an executable comment and
// wl does not read them as code, the text is read that way too: by
// normalizeExec when wl is MySQL's, else by normalizeUnknownExec. Given
// wl's reading alone, it writes what normalizePlain does.
func normalizeUnion(query string, wl *lexer, lexers []*lexer) string {
	d := wl.d
	mask := make([]byte, len(query))
	for n := 0; n < len(lexers); n++ {
		l := lexers[n]
		for {
			k, start, end, ok := l.next()
			if !ok {
				break
			}
			if l.pw != pwNone {
				k = l.password(k, start, end)
			}
			var bit byte
			switch k {
			case kLiteral:
				bit = inLiteral
			case kComment:
				if wl.exec && execOpen(query, start) > 0 {
					continue
				}
				bit = inComment
			default:
				continue
			}
			for i := start; i < end; i++ {
				mask[i] |= bit
			}
		}
		if l.sawExec && !wl.exec {
			if d == MySQL {
				return normalizeExec(query)
			}
			return normalizeUnknownExec(query)
		}
	}
	w := writer{b: make([]byte, 0, len(query))}
	l := wl
	mysql := d == MySQL // the reading that may write two minus signs (see writer.dashes)
	// merging: the last token written is a ? that stands for bytes some
	// reading takes as a literal, with only white space, comments and
	// such bytes since, some of them outside the literals of d's own
	// reading. Those are written as that one ?, and so is a literal of
	// d's own that follows them; a literal of d's own reading otherwise
	// has its own ?, as in normalizePlain, so that where the readings
	// agree the text is the same.
	merging := false
	for {
		k, start, end, ok := l.next()
		if !ok {
			break
		}
		if l.pw != pwNone {
			k = l.password(k, start, end)
			if l.cont {
				// The rest of a password's run: hidden, and
				// written with the ? of its first token.
				k = kPunct
			}
		}
		var m byte
		for i := start; i < end; i++ {
			m |= mask[i]
		}
		if k == kQuoted && m&inComment != 0 && !allHidden(mask[start:end]) {
			// A quoted identifier of wl's reading that spans a
			// comment of another (PostgreSQL's "…" over MySQL's #
			// comment's line) holds what that comment holds: hidden
			// as a literal is.
			m |= inLiteral
		}
		switch {
		case k == kSpace:
			w.token(k, "")
		case m&inLiteral != 0 && (k != kLiteral || merging):
			// Hidden by another reading, or a literal after such bytes.
			if !merging && !(w.lit && k != kLiteral) {
				if mysql {
					w.afterDashes("")
				}
				w.token(kLiteral, "")
			}
			w.space = false
			merging = true
		case k == kLiteral:
			if mysql {
				w.afterDashes("")
			}
			w.token(k, "")
		case m&inComment != 0 && allHidden(mask[start:end]):
			w.token(kComment, "")
		case k == kExec:
			text, pad := w.exec(query[start:end])
			w.afterDashes(text) // wl is MySQL's (newExecLexer)
			w.token(k, text)
			w.space = w.space || pad
			merging = false
		default:
			text := query[start:end]
			if mysql {
				w.afterDashes(text)
			}
			w.token(k, text)
			merging = false
		}
	}
	if mysql {
		return w.String()
	}
	return string(w.b)
}

func allHidden(m []byte) bool {
	for _, b := range m {
		if b == 0 {
			return false
		}
	}
	return true
}
