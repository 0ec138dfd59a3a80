package sqlnorm

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// markers are the letters literal contents are drawn from. The generator's
// own words (keywords, names, tags) never use them, so any of them in a
// normalized text is a literal's content that survived.
const markers = "QJqj"

// specials are the other characters of literal contents: every quote,
// escape and comment character of the dialects.
const specials = ` '"\` + "`" + `$*/-#;,()[]:?@.` + "\n\t"

// gen generates statements of one dialect with literals nested at random.
type gen struct {
	d     Dialect
	rng   *rand.Rand
	other []string // contents that are not marker letters (numbers, hex digits) and must not survive
}

func (g *gen) n(k int) int             { return g.rng.IntN(k) }
func (g *gen) pick(s ...string) string { return s[g.n(len(s))] }

// content returns a literal's content: marker letters, special characters
// and, with depth left, whole literals and comments of the dialect (which,
// inside another literal, are content too).
func (g *gen) content(depth int) string {
	var b strings.Builder
	b.WriteByte(markers[g.n(len(markers))]) // never empty, always detectable
	for range g.n(8) {
		switch r := g.n(10); {
		case r < 4:
			b.WriteByte(markers[g.n(len(markers))])
		case r < 8:
			b.WriteByte(specials[g.n(len(specials))])
		case depth > 0:
			b.WriteString(g.literal(depth - 1))
		}
	}
	return b.String()
}

// literal returns a literal or a comment of the dialect.
func (g *gen) literal(depth int) string {
	switch g.d {
	case PostgreSQL:
		switch g.n(11) {
		case 0:
			return g.eString(depth)
		case 1:
			return g.dollar(depth)
		case 2:
			return g.array(depth)
		case 3:
			return "B'" + g.pick("0101", "1", "") + "'"
		case 4:
			return "U&'" + strings.ReplaceAll(g.content(depth), "'", "''") + "'"
		case 5:
			return `'\x` + g.hex() + `'` // bytea in hex form
		}
	case MySQL:
		switch g.n(10) {
		case 0:
			return `"` + mysqlEscape(g.content(depth), '"', g.rng) + `"`
		case 1:
			return "#" + noNewline(g.content(depth)) + "\n"
		case 2:
			return "0x" + g.hex()
		case 3:
			return g.pick("b'0101'", "0b1101", "N'"+mysqlEscape(g.content(depth), '\'', g.rng)+"'", "_utf8mb4'"+mysqlEscape(g.content(depth), '\'', g.rng)+"'")
		case 4:
			// Two minus signs, not a comment: MySQL's -- opens one
			// only before white space or a control character.
			return "--" + g.str(depth)
		case 5:
			// An executable comment, versioned or not, its content
			// code with a literal in it (a string that may span */).
			lit := g.literal(depth)
			if g.n(2) == 0 {
				lit = "'" + mysqlEscape(g.content(depth)+" */ "+g.content(depth), '\'', g.rng) + "'"
			}
			// Versions glued to a word, or to what would continue a
			// number (e, x), and too few digits for a version.
			opener := g.pick("/*!", "/*!50000", "/*!80000 ", "/*M!100100", "/*!800001", "/*!8000",
				"/*!50000HIGH_PRIORITY ", "/*M!100100HIGH_PRIORITY ", "/*!500001e5 ", "/*!500000x41 ")
			return opener + g.pick("", " ", "HIGH_PRIORITY ") + lit + g.pick(" */", "*/", " ")
		}
	case SQLite:
		switch g.n(8) {
		case 0, 1:
			return `"` + strings.ReplaceAll(g.content(depth), `"`, `""`) + `"`
		}
	}
	switch g.n(6) {
	case 0:
		return g.number()
	case 1:
		return "X'" + g.hex() + "'"
	case 2:
		return g.lineComment(depth)
	case 3:
		return g.comment(depth)
	}
	return g.str(depth)
}

// str returns a string in the dialect's standard quotes.
func (g *gen) str(depth int) string {
	c := g.content(depth)
	if g.d == MySQL {
		return "'" + mysqlEscape(c, '\'', g.rng) + "'"
	}
	return "'" + strings.ReplaceAll(c, "'", "''") + "'"
}

// eString returns a PostgreSQL escape string, with backslash escapes.
func (g *gen) eString(depth int) string {
	var b strings.Builder
	b.WriteString(g.pick("E'", "e'"))
	for _, c := range []byte(g.content(depth)) {
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(g.pick(`\'`, `''`))
		default:
			b.WriteByte(c)
		}
	}
	if g.n(3) == 0 {
		b.WriteString(`\x51\n`) // \x51 is Q: escapes are content too
	}
	b.WriteByte('\'')
	return b.String()
}

// dollar returns a dollar-quoted string, with or without a tag.
func (g *gen) dollar(depth int) string {
	tag := "$" + g.pick("", "tag", "a_b", "x1", "_") + "$"
	c := g.content(depth)
	for strings.Contains(c, tag) {
		c = strings.ReplaceAll(c, tag, "Q")
	}
	if strings.HasSuffix(c, "$") && strings.HasPrefix(tag+tag[1:], c[len(c)-1:]+tag[1:]) {
		c += "Q" // a content ending in $ would merge with the closing tag
	}
	return tag + c + tag
}

// array returns an ARRAY[…] constructor of literals, nested.
func (g *gen) array(depth int) string {
	var parts []string
	for range 1 + g.n(3) {
		if depth > 0 && g.n(3) == 0 {
			parts = append(parts, g.array(depth-1))
		} else {
			parts = append(parts, g.pick(g.str(0), g.number(), g.eString(0)))
		}
	}
	return "ARRAY[" + strings.Join(parts, g.pick(",", ", ")) + "]"
}

// lineComment returns a -- comment: MySQL's needs white space or a control
// character after the --.
func (g *gen) lineComment(depth int) string {
	after := g.pick(" ", "\t", "\x01", "")
	if g.d == MySQL && after == "" {
		after = "\x7f"
	}
	return "--" + after + noNewline(g.content(depth)) + "\n"
}

// comment returns a block comment: with comments nested inside in
// PostgreSQL, and in MySQL and SQLite, whose comments do not nest, with
// openers (/*) inside.
func (g *gen) comment(depth int) string {
	c := g.content(0)
	c = strings.ReplaceAll(c, "*/", "Q")
	if g.d == PostgreSQL {
		c = strings.ReplaceAll(c, "/*", "Q")
	}
	if strings.HasSuffix(c, "*") || strings.HasSuffix(c, "/") {
		c += "Q"
	}
	if strings.HasPrefix(c, "/") || strings.HasPrefix(c, "*") {
		c = "Q" + c
	}
	if depth > 0 && g.n(2) == 0 {
		if g.d == PostgreSQL {
			c += " " + g.comment(depth-1) + " Q"
		} else {
			c += " /*" + g.pick("", " /*", "Q") + " Q"
		}
	}
	return "/*" + c + "*/"
}

func (g *gen) number() string {
	var b strings.Builder
	b.WriteByte("123456789"[g.n(9)])
	for range 3 + g.n(5) {
		b.WriteByte("0123456789"[g.n(10)])
	}
	n := b.String()
	g.other = append(g.other, n)
	switch g.n(4) {
	case 0:
		return n + ".5e-" + n[:1]
	case 1:
		return "." + n
	}
	return n
}

func (g *gen) hex() string {
	var b strings.Builder
	b.WriteString("A1") // letters and digits: never a placeholder or a word of the generator
	for range 4 + g.n(6) {
		b.WriteByte("0123456789ABCDEF"[g.n(16)])
	}
	g.other = append(g.other, b.String())
	return b.String()
}

// placeholder returns a placeholder of the dialect.
func (g *gen) placeholder() string {
	switch g.d {
	case PostgreSQL:
		return "$" + g.pick("1", "2", "3")
	case SQLite:
		return g.pick("?", "?1", ":name", "@name", "$name")
	}
	return "?"
}

// expr returns an expression: a literal, a placeholder or a column.
func (g *gen) expr() string {
	switch g.n(5) {
	case 0:
		return g.placeholder()
	case 1:
		return g.pick("id", "name", "users.id", "col_a")
	}
	return g.literal(3)
}

// gap returns what separates two tokens: white space, or a comment.
func (g *gen) gap() string {
	switch g.n(6) {
	case 0:
		return " " + g.comment(2) + " "
	case 1:
		return " " + g.lineComment(0)
	case 2:
		if g.d == MySQL {
			return " #" + noNewline(g.content(0)) + "\n"
		}
	case 3:
		if g.d == MySQL {
			return g.pick(" /*! HIGH_PRIORITY */ ", "/*!50000 */", " /*!80000 "+g.literal(1)+" */ ", " /*!50000HIGH_PRIORITY*/ ", "/*!800001"+g.literal(1)+"*/")
		}
	}
	return g.pick(" ", "\n", "\t ")
}

// statement returns a statement of the dialect.
func (g *gen) statement() string {
	var b strings.Builder
	if g.n(10) == 0 {
		s := g.password()
		if g.n(3) == 0 {
			// Review 41: after another statement, whose state
			// must not hide it (each statement is classified).
			s = g.pick("SELECT 1;", "SELECT a FROM t; ", "BEGIN;\n", "ATTACH 'a.db' AS a; ", "SET PASSWORD = 'x';") + g.gap() + s
		} else if g.n(2) == 0 {
			// Round 42: inside another statement — a routine's,
			// trigger's or event's body, a compound statement, a
			// DO block read by a dialect without dollar quoting —
			// whose first words do not tell it.
			s = g.pick("CREATE PROCEDURE p() BEGIN ", "CREATE DEFINER = bob PROCEDURE p() ", "BEGIN NOT ATOMIC ", "DO $$ BEGIN ",
				"CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SELECT 1; ", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO ",
				"CREATE FUNCTION f() RETURNS void LANGUAGE c BEGIN ATOMIC ", "lbl: BEGIN IF (SELECT a FROM t) THEN ", "EXPLAIN ",
				"SET STATEMENT max_statement_time=60 FOR ", "set statement sort_buffer_size=1, a = 1 for ", // review 42: MariaDB's
				// Round 43: a body's DML before it, whose SET is
				// a clause, must not hide less after its ;.
				"CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW BEGIN UPDATE b SET password = NEW.pw; ",
				"DO $$ BEGIN SELECT password INTO p FROM users; ", "CREATE PROCEDURE p() BEGIN INSERT INTO t SET password = 1;\n") +

				s + g.pick("", "; END", "; END $$", ";\nEND IF; END lbl")
		}
		return s
	}
	switch g.n(4) {
	case 3:
		if g.d == PostgreSQL {
			// Round 43: a DO block's body, read as code.
			// Its tag is one no literal's dollar quote uses: a
			// "$$" inside a "$$" body ends it, and what follows is
			// code to the server too.
			b.WriteString("DO $body$ BEGIN PERFORM f(" + g.expr() + ");" + g.gap() + "v :=" + g.gap() + g.expr())
			if g.n(3) == 0 {
				// Review 43: a string or quoted identifier left
				// open in the body ends at its closing tag, where
				// PostgreSQL ends the body: what follows is another
				// statement.
				c := g.content(1)
				for strings.Contains(c, "$body$") {
					c = strings.ReplaceAll(c, "$body$", "Q")
				}
				q := g.pick("'", `"`)
				b.WriteString(g.gap() + q + strings.ReplaceAll(c, q, q+q) + " $body$;" + g.gap() + "SELECT" + g.gap() + g.expr())
				break
			}
			b.WriteString("; END $body$")
			break
		}
		fallthrough
	case 0:
		b.WriteString("SELECT" + g.gap() + g.expr())
		for range g.n(3) {
			b.WriteString("," + g.gap() + g.expr())
		}
		b.WriteString(g.gap() + "FROM users WHERE id =" + g.gap() + g.expr())
		for range g.n(3) {
			b.WriteString(g.gap() + g.pick("AND", "OR") + " name " + g.pick("=", "<>", "LIKE") + g.gap() + g.expr())
		}
	case 1:
		b.WriteString("INSERT INTO orders (id, name) VALUES (" + g.expr() + "," + g.gap() + g.expr() + ")")
	default:
		in := "(" + g.expr() + ", " + g.expr() + ")"
		if g.d == MySQL && g.n(4) == 0 {
			in = g.pick("/*! ", "/*!50000", "/*M!100100 ") + in + g.pick(" */", "*/")
		}
		b.WriteString("UPDATE users SET name =" + g.gap() + g.expr() + g.gap() + "WHERE id IN " + in)
	}
	return b.String()
}

// password returns a statement with a password written without quotes: a
// run of marker letters, with punctuation inside, in each of the places one
// stands.
func (g *gen) password() string {
	w := string(markers[g.n(len(markers))]) + g.pick("", "x", markers[:2])
	w += g.pick("", "", "-"+markers[2:], "!x", "."+markers[:1], "@"+markers[1:2], "'"+markers[3:]+"'")
	// Before it, any gap: an executable comment's content, which MySQL
	// reads as the password, and the token after it are both hidden.
	gap := g.gap()
	if g.n(4) == 0 {
		return g.pick("SET PASSWORD", "set password FOR bob", "SET PASSWORD FOR 'bob'@'%'") + gap + "=" + g.pick("", " ") + w
	}
	if g.n(5) == 0 {
		// Round 41: a foreign server's options, REPLACE, MariaDB's
		// PASSWORD(…), SQLite's key pragmas and ATTACH … KEY.
		switch g.n(4) {
		case 0:
			return g.pick("CREATE SERVER s FOREIGN DATA WRAPPER remote OPTIONS (USER 'u', PASSWORD", "ALTER SERVER s OPTIONS (SET password",
				"CREATE USER MAPPING FOR bob SERVER s OPTIONS (ADD sslpassword", "IMPORT FOREIGN SCHEMA x FROM SERVER s INTO y OPTIONS (password") + gap + w + g.pick(")", ", HOST 'h')")
		case 1:
			return g.pick("ALTER USER bob IDENTIFIED BY 'x' REPLACE", "SET PASSWORD = 'x' REPLACE") + gap + w + g.pick("", " RETAIN CURRENT PASSWORD")
		case 2:
			return g.pick("SET PASSWORD FOR bob = PASSWORD(", "SET PASSWORD = OLD_PASSWORD(", "ALTER USER bob IDENTIFIED VIA ed25519 USING PASSWORD(") + w + ")"
		}
		return g.pick("PRAGMA key =", "pragma main.rekey=", "PRAGMA hexkey(", "ATTACH DATABASE 'b.db' AS b KEY", `PRAGMA "key" =`, `PRAGMA 'rekey'=`, `PRAGMA main."textkey" =`) + gap + w + g.pick("", ";", ")")
	}
	if g.n(4) == 0 {
		return g.pick("GRANT ALL ON db.* TO bob IDENTIFIED BY", "CHANGE MASTER TO MASTER_PASSWORD =", "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'h', SOURCE_PASSWORD=", "START REPLICA PASSWORD =",
			"CLONE INSTANCE FROM bob@h:3306 IDENTIFIED BY") + gap + w + g.pick("", ",x", ";")
	}
	return g.pick("ALTER ROLE", "CREATE USER", "alter user", "CREATE USER IF NOT EXISTS", "CREATE OR REPLACE USER") + " bob" + g.gap() +
		g.pick("PASSWORD", "WITH LOGIN PASSWORD", "IDENTIFIED BY", "identified by", "IDENTIFIED WITH caching_sha2_password BY", "IDENTIFIED WITH 'sha256_password' AS", "IDENTIFIED BY PASSWORD") + gap + w + g.pick("", " VALID UNTIL 'x'", ", amy", ")")
}

func mysqlEscape(s string, q byte, rng *rand.Rand) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == q && rng.IntN(2) == 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == q:
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func noNewline(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// TestNoLiteralSurvives is the normalizer's property: for statements of
// every dialect with literals and comments nested at random, the normalized
// text holds none of their contents — read in the statement's own dialect,
// and read as of unknown dialect. And a text is written alike by the path
// that reads it once and by the one that merges readings, given one.
func TestNoLiteralSurvives(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for _, d := range []Dialect{PostgreSQL, MySQL, SQLite} {
		g := &gen{d: d, rng: rand.New(rand.NewPCG(12, uint64(d)))}
		failures := 0
		for range n {
			g.other = g.other[:0]
			q := g.statement()
			for _, as := range []Dialect{d, Unknown} {
				out := Normalize(as, q)
				leak := strings.ContainsAny(out, markers)
				for _, o := range g.other {
					leak = leak || strings.Contains(out, o)
				}
				if len(out) > len(q) {
					t.Errorf("%v read as %v: %d bytes grew to %d", d, as, len(q), len(out))
				}
				if leak && failures < 10 {
					failures++
					t.Errorf("%v read as %v: a literal survived\n  in:  %q\n  out: %q", d, as, q, out)
				}
			}
			// The union of one reading is that reading: a text is
			// written alike whichever path it takes.
			if u, p := normalizeUnion(q, newLexer(q, d), []*lexer{newLexer(q, d)}), normalizePlain(q, d); u != p && failures < 10 {
				failures++
				t.Errorf("%v: the union of its one reading differs\n  in:    %q\n  union: %q\n  plain: %q", d, q, u, p)
			}
		}
	}
}

// TestIssueCases are the leaks the normalizer once had, each in its
// dialect.
func TestIssueCases(t *testing.T) {
	tests := []struct {
		d       Dialect
		in, out string
	}{
		{PostgreSQL, `SELECT E'pw\'hunter2'`, `SELECT ?`},
		{PostgreSQL, `SELECT $$hunter2$$, $tag$hunter2 $$ x$tag$ FROM t WHERE id = $1`, `SELECT ?, ? FROM t WHERE id = $1`},
		{PostgreSQL, `SELECT ARRAY['hunter2','card-4111111111111111']`, `SELECT ARRAY[?,?]`},
		{PostgreSQL, `SELECT 1 /* a /* nested */ hunter2 */`, `SELECT ?`},
		{PostgreSQL, `SELECT "Col" FROM "my""table" WHERE x::text = U&'d\0061t' AND y = B'101'`, `SELECT "Col" FROM "my""table" WHERE x::text = ? AND y = ?`},
		{SQLite, `SELECT * FROM "users" WHERE password = "SECRET" AND "users"."id" = ?`, `SELECT * FROM "users" WHERE password = ? AND "users"."id" = ?`},
		{SQLite, `INSERT INTO "t" ("a", "b") VALUES ("SECRET", X'DEADBEEF')`, `INSERT INTO "t" ("a", "b") VALUES (?, ?)`},
		{SQLite, `CREATE TABLE "t" ("id" INTEGER, "v" TEXT DEFAULT "SECRET")`, `CREATE TABLE "t" ("id" INTEGER, "v" TEXT DEFAULT ?)`},
		{SQLite, `SELECT [a b] FROM t WHERE x = :x`, `SELECT [a b] FROM t WHERE x = :x`},
		{MySQL, `SELECT * FROM t WHERE n = 'O''Brien' AND password = 'SECRET' # SECRET2`, `SELECT * FROM t WHERE n = ? AND password = ?`},
		// With NO_BACKSLASH_ESCAPES, 'O\' ends the string: either reading
		// may be the server's, and what follows is hidden.
		{MySQL, `SELECT * FROM t WHERE n = 'O\'Brien' AND password = 'SECRET' # SECRET2`, `SELECT * FROM t WHERE n = ?`},
		{MySQL, "SELECT `a``b`, \"SECRET\" FROM t -- SECRET2", "SELECT `a``b`, ? FROM t"},
		{MySQL, `SELECT x'4142', 0x4142, @v, @@global.x FROM t`, `SELECT ?, ?, @v, @@global.x FROM t`},
		{Unknown, `SELECT * FROM t WHERE n = 'O\'Brien' AND password = 'SECRET'`, `SELECT * FROM t WHERE n = ?`},
		{Unknown, `SELECT "col" FROM "users" WHERE x = "SECRET"`, `SELECT ? FROM "users" WHERE x = ?`},
		{PostgreSQL, `SELECT "unterminated 'SECRET'`, `SELECT ?`},
		{PostgreSQL, `SELECT 1; -- SECRET`, `SELECT ?;`},
		{PostgreSQL, "  \n ", ""},
		// MySQL's -- opens a comment only before white space, a control
		// character or the end of the text: 1--'…' is 1 - -'…'.
		{MySQL, "SELECT 1--'\n, hunter2, '", "SELECT ?--?"},
		{MySQL, "SELECT 1-- '\n, x, '", "SELECT ? , x, ?"},
		{MySQL, "SELECT a--\x01b", "SELECT a"},
		{MySQL, "SELECT a--/**/ b", "SELECT a--b"},
		{MySQL, "SELECT a--/**/", "SELECT a-"},
		{MySQL, "SELECT a---/**/\x01b", "SELECT a-\x01b"},
		{Unknown, "SELECT 1--'\n, hunter2, '", "SELECT ?"},
		// MySQL's and SQLite's comments do not nest.
		{MySQL, "SELECT 1 /* /* */ 'a */ , hunter2, '", "SELECT ? ?"},
		{SQLite, "SELECT 1 /* /* */ 'a */ , hunter2, '", "SELECT ? ?"},
		{Unknown, "SELECT 1 /* /* */ 'a */ , hunter2, '", "SELECT ?"},
		// PostgreSQL's quoted identifier over MySQL's # comment (SQLite
		// reads a bracketed identifier, no string).
		{Unknown, "SELECT a FROM t #[\"\nWHERE b = c #hunter2\"]\n", "SELECT a FROM t ?"},
		// SECRET is in an unterminated string when a backslash escapes
		// (PostgreSQL with standard_conforming_strings off).
		{Unknown, "SELECT `'E\\'` SECRET /*", "SELECT `?"},
		// MySQL runs an executable comment's content (a versioned one's
		// when the server is recent enough): a string in it may span its
		// */, and the text is read both ways.
		{MySQL, "SELECT 1 /*! 'a */ , hunter2, ' */", "SELECT ? /*! ?"},
		{Unknown, "SELECT 1 /*! 'a */ , hunter2, ' */", "SELECT ? /*! ?"},
		{MySQL, "SELECT 1 /*!50000 'x */ , hunter2, ' */", "SELECT ? /*! ?"},
		{Unknown, "SELECT 1 /*!50000 'x */ , hunter2, ' */", "SELECT ? /*! ?"},
		{MySQL, "SELECT 1 /*M!100100 'x */ , hunter2, ' */", "SELECT ? /*M! ?"},
		{MySQL, "SELECT /*! STRAIGHT_JOIN */ a FROM t WHERE p = 'pw'", "SELECT /*! STRAIGHT_JOIN */ a FROM t WHERE p = ?"},
		// A version's five or six digits glued to a word are a version:
		// written as the spaced form is.
		{MySQL, "SELECT /*!50000STRAIGHT_JOIN*/ a FROM t WHERE p = 'pw' /*!80000 AND q = 'hunter2' */", "SELECT /*! STRAIGHT_JOIN */ a FROM t WHERE p = ? /*! AND q = ? */"},
		{MySQL, "SELECT /*M!100100STRAIGHT_JOIN*/ a", "SELECT /*M! STRAIGHT_JOIN */ a"},
		{MySQL, "SELECT /*!50000 STRAIGHT_JOIN*/ a", "SELECT /*! STRAIGHT_JOIN */ a"},
		{MySQL, "SELECT /*!50000_utf8mb4'pw'*/ a", "SELECT /*! _utf8mb4? */ a"},
		{MySQL, "SELECT /*!50000N'pw'*/ a", "SELECT /*! ? */ a"},
		// Digits before a letter are read as a number (0xA1 is one), as
		// are a version's digits before a letter that would continue
		// one (500001e5 is 50000 and 1e5 to a server that reads five
		// digits, 500000x41 is 50000 and 0x41), and fewer or more
		// digits than a version has.
		{MySQL, "SELECT /*!0xA1B2 */ 1", "SELECT /*!? */ ?"},
		{MySQL, "SELECT /*!500001e5*/ a", "SELECT /*!?*/ a"},
		{MySQL, "SELECT /*!500000x41*/ a", "SELECT /*!?*/ a"},
		{MySQL, "SELECT /*!500000b1*/ a", "SELECT /*!?*/ a"},
		{MySQL, "SELECT /*!50000E5*/ a", "SELECT /*!?*/ a"},
		{MySQL, "SELECT /*!5000abc*/ a", "SELECT /*!?*/ a"},
		{MySQL, "SELECT /*!5000000abc*/ a", "SELECT /*!?*/ a"},
		// The Unknown dialect writes by MySQL's reading of the
		// executable comment as code (PostgreSQL and SQLite read it as
		// a comment): the hint is kept.
		{Unknown, "SELECT /*! STRAIGHT_JOIN */ a FROM t WHERE p = 'pw' /*!80000 AND q = 'hunter2' */", "SELECT /*! STRAIGHT_JOIN */ a FROM t WHERE p = ? /*! AND q = ? */"},
		{Unknown, "SELECT /*!40001 SQL_NO_CACHE */ * FROM t", "SELECT /*! SQL_NO_CACHE */ * FROM t"},
		{Unknown, "SELECT /*!50000STRAIGHT_JOIN*/ a", "SELECT /*! STRAIGHT_JOIN */ a"},
		{Unknown, "SELECT a FROM t WHERE x IN /*! (1,'pw',3) */", "SELECT a FROM t WHERE x IN /*! (?,?,?) */"},
		// Comments of any reading are still dropped: /* … */ nests in
		// PostgreSQL, so hunter2 is in one there (MySQL runs it).
		{Unknown, "SELECT a /* /*! x */ hunter2 */", "SELECT a"},
		{Unknown, "SELECT a /*! x */ -- hunter2", "SELECT a /*! x */"},
		{Unknown, `SELECT a /*! x */ FROM t WHERE n = 'a\' AND p = 'hunter2'`, "SELECT a /*! x */ FROM t WHERE n = ?"},
		{MySQL, "SELECT 1 /*! ' */ # ' hunter2", "SELECT ? /*! ?"},
		// A password written without quotes (a syntax error on the
		// server, whose error quotes it, but the text is recorded too).
		{PostgreSQL, "ALTER ROLE bob WITH LOGIN PASSWORD hunter2 VALID UNTIL '2030-01-01'", "ALTER ROLE bob WITH LOGIN PASSWORD ? VALID UNTIL ?"},
		{PostgreSQL, `CREATE USER bob PASSWORD "hunter2"`, "CREATE USER bob PASSWORD ?"},
		{MySQL, "CREATE OR REPLACE USER bob IDENTIFIED BY hunter2", "CREATE OR REPLACE USER bob IDENTIFIED BY ?"},
		{Unknown, "alter user bob identified by hunter2", "alter user bob identified by ?"},
		{PostgreSQL, "ALTER ROLE bob PASSWORD NULL", "ALTER ROLE bob PASSWORD NULL"},
		{MySQL, "ALTER USER bob PASSWORD EXPIRE", "ALTER USER bob PASSWORD EXPIRE"},
		{PostgreSQL, "CREATE TABLE users (password TEXT)", "CREATE TABLE users (password TEXT)"},
		{PostgreSQL, "SELECT password hash FROM users", "SELECT password hash FROM users"},
		// The forms it takes (review 40): after a plugin, in SET
		// PASSWORD, GRANT, CHANGE MASTER|REPLICATION SOURCE and START
		// REPLICA, and the whole run of tokens up to white space or , ; ).
		{MySQL, "CREATE USER bob IDENTIFIED WITH caching_sha2_password BY hunter2", "CREATE USER bob IDENTIFIED WITH caching_sha2_password BY ?"},
		{MySQL, "CREATE USER bob IDENTIFIED WITH 'mysql_native_password' AS hunter2", "CREATE USER bob IDENTIFIED WITH ? AS ?"},
		{MySQL, "ALTER USER bob IDENTIFIED VIA ed25519 USING hunter2", "ALTER USER bob IDENTIFIED VIA ed25519 USING ?"},
		{MySQL, "SET PASSWORD = hunter2", "SET PASSWORD = ?"},
		{MySQL, "SET PASSWORD FOR bob = hunter2", "SET PASSWORD FOR bob = ?"},
		{Unknown, "set password for bob=hunter2", "set password for bob=?"},
		{MySQL, "SET PASSWORD FOR bob = PASSWORD('hunter2')", "SET PASSWORD FOR bob = PASSWORD(?)"},
		{MySQL, "SET PASSWORD FOR bob TO RANDOM", "SET PASSWORD FOR bob TO RANDOM"},
		{MySQL, "GRANT ALL ON db.* TO bob IDENTIFIED BY hunter2", "GRANT ALL ON db.* TO bob IDENTIFIED BY ?"},
		{MySQL, "GRANT ALL ON db.* TO bob IDENTIFIED BY PASSWORD hunter2", "GRANT ALL ON db.* TO bob IDENTIFIED BY PASSWORD ?"},
		{MySQL, "CHANGE MASTER TO MASTER_HOST = 'h', MASTER_PASSWORD = hunter2, MASTER_PORT = 3306", "CHANGE MASTER TO MASTER_HOST = ?, MASTER_PASSWORD = ?, MASTER_PORT = ?"},
		{Unknown, "CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD=hunter2", "CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD=?"},
		{MySQL, "START REPLICA USER = 'u' PASSWORD = hunter2", "START REPLICA USER = ? PASSWORD = ?"},
		{PostgreSQL, "ALTER ROLE bob PASSWORD hun-ter2", "ALTER ROLE bob PASSWORD ?"},
		{Unknown, "ALTER ROLE bob PASSWORD hunter2!x VALID UNTIL 'infinity'", "ALTER ROLE bob PASSWORD ? VALID UNTIL ?"},
		{MySQL, "CREATE USER bob IDENTIFIED BY hun.ter2, amy IDENTIFIED BY x", "CREATE USER bob IDENTIFIED BY ?, amy IDENTIFIED BY ?"},
		{MySQL, "CREATE OR REPLACE ROLE bob IDENTIFIED BY 'x'y", "CREATE OR REPLACE ROLE bob IDENTIFIED BY ?"},
		{PostgreSQL, "CREATE USER IF NOT EXISTS bob PASSWORD hunter2", "CREATE USER IF NOT EXISTS bob PASSWORD ?"},
		{PostgreSQL, "CREATE USER bob PASSWORD $1", "CREATE USER bob PASSWORD $1"},
		// Ordinary words stay: a table named user or role is no role,
		// a column may be named password, and MySQL's options keep
		// their words.
		{PostgreSQL, "ALTER TABLE user ADD COLUMN password VARCHAR(255)", "ALTER TABLE user ADD COLUMN password VARCHAR(?)"},
		{MySQL, "ALTER TABLE user ADD COLUMN password VARCHAR(255)", "ALTER TABLE user ADD COLUMN password VARCHAR(?)"},
		{Unknown, "ALTER TABLE IF EXISTS role ADD password bytea", "ALTER TABLE IF EXISTS role ADD password bytea"},
		{PostgreSQL, "CREATE TABLE role (id int, password bytea)", "CREATE TABLE role (id int, password bytea)"},
		{MySQL, "CREATE USER bob IDENTIFIED BY RANDOM PASSWORD", "CREATE USER bob IDENTIFIED BY RANDOM PASSWORD"},
		{MySQL, "ALTER USER bob IDENTIFIED BY RANDOM PASSWORD ACCOUNT LOCK", "ALTER USER bob IDENTIFIED BY RANDOM PASSWORD ACCOUNT LOCK"},
		{MySQL, "ALTER USER bob IDENTIFIED BY 'x' RETAIN CURRENT PASSWORD ACCOUNT UNLOCK", "ALTER USER bob IDENTIFIED BY ? RETAIN CURRENT PASSWORD ACCOUNT UNLOCK"},
		{MySQL, "ALTER USER bob DISCARD OLD PASSWORD ACCOUNT LOCK", "ALTER USER bob DISCARD OLD PASSWORD ACCOUNT LOCK"},
		{MySQL, "ALTER USER bob IDENTIFIED WITH auth_socket", "ALTER USER bob IDENTIFIED WITH auth_socket"},
		{MySQL, "GRANT SELECT (id, password) ON t TO bob", "GRANT SELECT (id, password) ON t TO bob"},
		{PostgreSQL, "SET password_encryption = 'scram-sha-256'", "SET password_encryption = ?"},
		{MySQL, "SET @password = 'x'", "SET @password = ?"},
		// An executable comment directly before the password (review
		// 40's note): MySQL runs its content, so the password is the
		// token after it either way.
		{MySQL, "SET PASSWORD = /*!*/ hunter2", "SET PASSWORD = /*!*/ ?"},
		{MySQL, "ALTER USER u IDENTIFIED BY /*!80000 */ hunter2", "ALTER USER u IDENTIFIED BY /*! */ ?"},
		{Unknown, "ALTER USER u IDENTIFIED BY /*!80000 */hunter2", "ALTER USER u IDENTIFIED BY /*! */?"},
		{MySQL, "ALTER USER u IDENTIFIED /*!80000 BY */ hunter2", "ALTER USER u IDENTIFIED /*! BY */ ?"},
		// Round 42: what follows an executable comment where the
		// password stands, or in its run, is hidden up to , ; or ),
		// across white space and comments: MySQL reads the comment's
		// content as the password, another reading what follows it.
		{MySQL, "ALTER USER u IDENTIFIED BY /*!80000 pw */ hunter2", "ALTER USER u IDENTIFIED BY /*! ? */ ?"},
		{MySQL, "CREATE USER u IDENTIFIED WITH p AS /*!80000 /*M!100100HIGH_PRIORITY /*c*/ */ */ hunter2)", "CREATE USER u IDENTIFIED WITH p AS /*! /*M! ?)"},
		{Unknown, "CREATE USER u IDENTIFIED WITH p AS /*!80000 /*M!100100HIGH_PRIORITY /*c*/ */ */ hunter2)", "CREATE USER u IDENTIFIED WITH p AS /*! /*M! ?)"},
		{MySQL, "SET PASSWORD = /*!80000 pw */ hunter2, a = 1", "SET PASSWORD = /*! ? */ ?, a = ?"},
		{MySQL, "ALTER USER u IDENTIFIED BY pw /*!80000 x */ hunter2", "ALTER USER u IDENTIFIED BY ? /*! x */ hunter2"},
		{MySQL, "ALTER USER u PASSWORD EXPIRE /*!80000 x */ hunter2", "ALTER USER u PASSWORD EXPIRE /*! x */ hunter2"},
		// Round 42: a statement inside another, whose first words
		// do not tell it: a routine's or trigger's body, an event's,
		// a compound statement, a DO block read without dollar
		// quoting (PostgreSQL's reading hides it whole).
		{MySQL, "CREATE PROCEDURE p() BEGIN ALTER USER u IDENTIFIED BY hunter2; END", "CREATE PROCEDURE p() BEGIN ALTER USER u IDENTIFIED BY ?; END"},
		{MySQL, "CREATE DEFINER = bob PROCEDURE p() SET PASSWORD FOR bob = hunter2", "CREATE DEFINER = bob PROCEDURE p() SET PASSWORD FOR bob = ?"},
		{MySQL, "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SELECT 1; CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = hunter2; END", "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SELECT ?; CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = ?; END"},
		{MySQL, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO GRANT ALL ON *.* TO bob IDENTIFIED BY hunter2", "CREATE EVENT e ON SCHEDULE EVERY ? DAY DO GRANT ALL ON *.* TO bob IDENTIFIED BY ?"},
		{MySQL, "BEGIN NOT ATOMIC IF a THEN CREATE OR REPLACE USER bob IDENTIFIED BY hunter2; END IF; END", "BEGIN NOT ATOMIC IF a THEN CREATE OR REPLACE USER bob IDENTIFIED BY ?; END IF; END"},
		{MySQL, "DO $$ BEGIN ALTER USER u PASSWORD hunter2; END $$", "DO $$ BEGIN ALTER USER u PASSWORD ?; END $$"},
		{PostgreSQL, "DO $$ BEGIN ALTER USER u PASSWORD hunter2; END $$", "DO $$ BEGIN ALTER USER u PASSWORD ?; END $$"},
		{Unknown, "DO $$ BEGIN ALTER USER u PASSWORD hunter2; END $$", "DO $$ BEGIN ALTER USER u PASSWORD ?; END $$"},
		{PostgreSQL, "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC ALTER ROLE u PASSWORD hunter2; END", "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC ALTER ROLE u PASSWORD ?; END"},
		{SQLite, "CREATE TRIGGER t AFTER INSERT ON a BEGIN PRAGMA key = hunter2; END", "CREATE TRIGGER t AFTER INSERT ON a BEGIN PRAGMA key = ?; END"},
		{Unknown, "EXPLAIN ALTER USER u PASSWORD hunter2", "EXPLAIN ALTER USER u PASSWORD ?"},
		// Review 42: MariaDB's SET STATEMENT var = value FOR
		// <statement> runs any statement under a setting; CLONE
		// INSTANCE FROM u@h:port IDENTIFIED BY x holds a password.
		{MySQL, "SET STATEMENT max_statement_time=60 FOR ALTER USER u IDENTIFIED BY hunter2", "SET STATEMENT max_statement_time=? FOR ALTER USER u IDENTIFIED BY ?"},
		{Unknown, "SET STATEMENT max_statement_time=60 FOR ALTER USER u IDENTIFIED BY hunter2", "SET STATEMENT max_statement_time=? FOR ALTER USER u IDENTIFIED BY ?"},
		{MySQL, "SET STATEMENT max_statement_time=60 FOR SET PASSWORD FOR bob = hunter2", "SET STATEMENT max_statement_time=? FOR SET PASSWORD FOR bob = ?"},
		{Unknown, "SET STATEMENT max_statement_time=60 FOR SET PASSWORD FOR bob = hunter2", "SET STATEMENT max_statement_time=? FOR SET PASSWORD FOR bob = ?"},
		{MySQL, "SET STATEMENT sql_mode='' FOR GRANT ALL ON *.* TO bob IDENTIFIED BY hunter2", "SET STATEMENT sql_mode=? FOR GRANT ALL ON *.* TO bob IDENTIFIED BY ?"},
		{Unknown, "SET STATEMENT sql_mode='' FOR GRANT ALL ON *.* TO bob IDENTIFIED BY hunter2", "SET STATEMENT sql_mode=? FOR GRANT ALL ON *.* TO bob IDENTIFIED BY ?"},
		{MySQL, "SET STATEMENT max_statement_time=60 FOR CHANGE MASTER TO MASTER_PASSWORD = hunter2", "SET STATEMENT max_statement_time=? FOR CHANGE MASTER TO MASTER_PASSWORD = ?"},
		{Unknown, "SET STATEMENT max_statement_time=60 FOR CHANGE MASTER TO MASTER_PASSWORD = hunter2", "SET STATEMENT max_statement_time=? FOR CHANGE MASTER TO MASTER_PASSWORD = ?"},
		{MySQL, "SET STATEMENT a=1 FOR SELECT set_x, password FROM t", "SET STATEMENT a=? FOR SELECT set_x, password FROM t"},
		{MySQL, "CLONE INSTANCE FROM u@h:3306 IDENTIFIED BY hunter2", "CLONE INSTANCE FROM u@h:? IDENTIFIED BY ?"},
		{Unknown, "CLONE INSTANCE FROM 'u'@'h':3306 IDENTIFIED BY hunter2 DATA DIRECTORY = '/x'", "CLONE INSTANCE FROM ?@?:? IDENTIFIED BY ? DATA DIRECTORY = ?"},
		{MySQL, "CREATE PROCEDURE p() BEGIN CLONE INSTANCE FROM u@h:3306 IDENTIFIED BY hunter2; END", "CREATE PROCEDURE p() BEGIN CLONE INSTANCE FROM u@h:? IDENTIFIED BY ?; END"},
		// Review 42's mutants. In PostgreSQL's reading a DO block's
		// $$ may end early, leaving its PASSWORD outside any
		// statement's first words: the DO tells it.
		{PostgreSQL, "DO $$ BEGIN ALTER ROLE u /* $$ */ PASSWORD hunter2; END $$", "DO $$ BEGIN ALTER ROLE u PASSWORD ?; END ?"},
		// Round 43: a routine's body in PL/pgSQL or SQL is read as
		// code, its literals hidden and the rest kept (it was one ?,
		// every DO block written DO ?); another language's, a body not
		// closed, a language named twice, hidden whole.
		{PostgreSQL, "DO $$ BEGIN PERFORM refresh_totals(7); ALTER ROLE u PASSWORD 'pw'; END $$", "DO $$ BEGIN PERFORM refresh_totals(?); ALTER ROLE u PASSWORD ?; END $$"},
		{PostgreSQL, "DO LANGUAGE plpgsql $x$ BEGIN v := 'a' || $q$b$q$; END $x$", "DO LANGUAGE plpgsql $x$ BEGIN v := ? || ?; END $x$"},
		{PostgreSQL, "CREATE FUNCTION f() RETURNS void AS $$ BEGIN UPDATE big SET n = n + 1 WHERE id = 3; END $$ LANGUAGE plpgsql",
			"CREATE FUNCTION f() RETURNS void AS $$ BEGIN UPDATE big SET n = n + ? WHERE id = ?; END $$ LANGUAGE plpgsql"},
		{PostgreSQL, "CREATE OR REPLACE PROCEDURE p() LANGUAGE 'sql' AS $f$ DELETE FROM t WHERE d < 'x' $f$", "CREATE OR REPLACE PROCEDURE p() LANGUAGE ? AS $f$ DELETE FROM t WHERE d < ? $f$"},
		{Unknown, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT count(*) FROM t WHERE a = 'hunter2' $$", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT count(*) FROM t WHERE a = ? $$"},
		{PostgreSQL, `DO $$ x = "hunter2" $$ LANGUAGE plpython3u`, "DO ? LANGUAGE plpython3u"},
		{PostgreSQL, `DO LANGUAGE plv8 $$ var x = "hunter2" $$`, "DO LANGUAGE plv8 ?"},
		{PostgreSQL, `CREATE FUNCTION f() RETURNS text AS $$ return "hunter2" $$ LANGUAGE plpython3u`, "CREATE FUNCTION f() RETURNS text AS ? LANGUAGE plpython3u"},
		{PostgreSQL, `CREATE FUNCTION f() RETURNS text AS $$ SELECT "hunter2" $$`, "CREATE FUNCTION f() RETURNS text AS ?"},
		{PostgreSQL, `CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 1 $$; CREATE FUNCTION g() RETURNS text AS $$ "hunter2" $$ LANGUAGE plpython3u`,
			"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS ?; CREATE FUNCTION g() RETURNS text AS ? LANGUAGE plpython3u"},
		// Review 43: a string or quoted identifier left open in the
		// body ends at its closing tag, as the body does, and what
		// follows is another statement (it ran over it, which read
		// a string's end as another's start).
		{PostgreSQL, "DO $$ BEGIN v := 'hunter2; END $$", "DO $$ BEGIN v := ?$$"},
		{PostgreSQL, `DO $$ BEGIN RAISE 'abc $$; SELECT 'hunter2' x`, "DO $$ BEGIN RAISE ?$$; SELECT ? x"},
		{PostgreSQL, `DO $$ BEGIN PERFORM "abc $$; ALTER ROLE bob PASSWORD 'hunter2' "`, "DO $$ BEGIN PERFORM ?$$; ALTER ROLE bob PASSWORD ? ?"},
		{PostgreSQL, `CREATE FUNCTION f() RETURNS int AS $$ SELECT "x $$ LANGUAGE sql; SELECT 'hunter2' "`, "CREATE FUNCTION f() RETURNS int AS $$ SELECT ?$$ LANGUAGE sql; SELECT ? ?"},
		{Unknown, `DO $$ BEGIN RAISE 'abc $$; SELECT 'hunter2' x`, "DO $$ BEGIN RAISE ?"},
		// A word that runs over the tag ends there too.
		{PostgreSQL, "DO $$ BEGIN PERFORM abc$$; SELECT 'hunter2'", "DO $$ BEGIN PERFORM abc$$; SELECT ?"},
		{PostgreSQL, "SELECT $$hunter2$$ AS language", "SELECT ? AS language"},
		{PostgreSQL, "DO $" + strings.Repeat("t", 300) + "$ v := 'hunter2'; $" + strings.Repeat("t", 300) + "$", "DO ?"},
		// … and only a DO: a routine's SELECT password is a column.
		{MySQL, "CREATE PROCEDURE p() BEGIN SELECT password FROM users; END", "CREATE PROCEDURE p() BEGIN SELECT password FROM users; END"},
		// Round 43: a body's UPDATE, INSERT, SELECT… holds no
		// statement, its SET is a clause and a DO's PASSWORD a
		// column: what they hold is kept, the secret beside them
		// hidden (the value after SET password = was hidden, and
		// the word after a DO's password).
		{MySQL, "CREATE TRIGGER tr BEFORE UPDATE ON users FOR EACH ROW BEGIN UPDATE audit SET password = NEW.pw WHERE id = NEW.id; END",
			"CREATE TRIGGER tr BEFORE UPDATE ON users FOR EACH ROW BEGIN UPDATE audit SET password = NEW.pw WHERE id = NEW.id; END"},
		{MySQL, "CREATE PROCEDURE p(IN pw TEXT) BEGIN UPDATE users SET password = pw WHERE id = 3; ALTER USER u IDENTIFIED BY hunter2; END",
			"CREATE PROCEDURE p(IN pw TEXT) BEGIN UPDATE users SET password = pw WHERE id = ?; ALTER USER u IDENTIFIED BY ?; END"},
		{MySQL, "CREATE PROCEDURE p(IN pw TEXT) INSERT INTO users SET password = pw, id = 3", "CREATE PROCEDURE p(IN pw TEXT) INSERT INTO users SET password = pw, id = ?"},
		{MySQL, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO UPDATE users SET password = NULL, x = y WHERE expired",
			"CREATE EVENT e ON SCHEDULE EVERY ? DAY DO UPDATE users SET password = NULL, x = y WHERE expired"},
		{MySQL, "BEGIN NOT ATOMIC IF a THEN UPDATE t SET password = b; ELSE WITH c AS (SELECT 1) UPDATE t SET password = d; END IF; END",
			"BEGIN NOT ATOMIC IF a THEN UPDATE t SET password = b; ELSE WITH c AS (SELECT ?) UPDATE t SET password = d; END IF; END"},
		{SQLite, "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET password = new.pw; PRAGMA key = hunter2; END",
			"CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET password = new.pw; PRAGMA key = ?; END"},
		{MySQL, "DO $$ BEGIN SELECT password INTO p FROM users; ALTER ROLE u PASSWORD hunter2; END $$",
			"DO $$ BEGIN SELECT password INTO p FROM users; ALTER ROLE u PASSWORD ?; END $$"},
		{Unknown, "DO BEGIN SELECT password FROM users WHERE id = 3; END", "DO BEGIN SELECT password FROM users WHERE id = ?; END"},
		// … but a trigger's BEFORE UPDATE is no statement: its
		// body's SET PASSWORD is still read as one.
		{MySQL, "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW SET PASSWORD = hunter2", "CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW SET PASSWORD = ?"},
		{MySQL, "CREATE PROCEDURE p() BEGIN SELECT (SELECT 1) INTO @a; SET PASSWORD FOR u = hunter2; END", "CREATE PROCEDURE p() BEGIN SELECT (SELECT ?) INTO @a; SET PASSWORD FOR u = ?; END"},
		// An executable comment glued to a password's run: what
		// follows it is hidden in the reading of it as a comment
		// (MySQL's reading of it as code ends the run at its ,).
		{MySQL, "ALTER USER u IDENTIFIED BY pw/*!80000 , x */hunter2", "ALTER USER u IDENTIFIED BY ?/*! , x */?"},
		// … but not in ordinary statements: ALTER TABLE … CHANGE
		// is not CHANGE MASTER, a SELECT holds no statement.
		{MySQL, "ALTER TABLE t CHANGE password pw2 text", "ALTER TABLE t CHANGE password pw2 text"},
		{MySQL, "ALTER TABLE t ALTER COLUMN password SET DEFAULT x", "ALTER TABLE t ALTER COLUMN password SET DEFAULT x"},
		// An ALTER TABLE holds no statement: its ALTER user is a
		// column's; in a routine's body, ALTER TABLE … CHANGE is not
		// CHANGE MASTER.
		{MySQL, "ALTER TABLE t ALTER user SET DEFAULT 'bob', ALTER password DROP DEFAULT", "ALTER TABLE t ALTER user SET DEFAULT ?, ALTER password DROP DEFAULT"},
		{MySQL, "CREATE PROCEDURE p() BEGIN ALTER TABLE t CHANGE password pw TEXT; END", "CREATE PROCEDURE p() BEGIN ALTER TABLE t CHANGE password pw TEXT; END"},
		{MySQL, "UPDATE users SET password = ? WHERE id = ?", "UPDATE users SET password = ? WHERE id = ?"},
		{PostgreSQL, "SELECT alter_user, password FROM t", "SELECT alter_user, password FROM t"},
		{MySQL, "CREATE TABLE t (a int, b int) SELECT 1; CREATE USER u IDENTIFIED BY hunter2", "CREATE TABLE t (a int, b int) SELECT ?; CREATE USER u IDENTIFIED BY ?"},
		// Round 41: a foreign server's or user mapping's options
		// (MySQL's CREATE SERVER, PostgreSQL's foreign data wrappers:
		// OPTIONS (password 'x'), ADD or SET password in an ALTER).
		{MySQL, "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER 'u', PASSWORD hunter2, HOST 'h')", "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER ?, PASSWORD ?, HOST ?)"},
		{MySQL, "CREATE OR REPLACE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (PASSWORD hunter2)", "CREATE OR REPLACE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (PASSWORD ?)"},
		{MySQL, "ALTER SERVER s OPTIONS (PASSWORD hunter2)", "ALTER SERVER s OPTIONS (PASSWORD ?)"},
		{PostgreSQL, "ALTER SERVER s OPTIONS (SET password hunter2)", "ALTER SERVER s OPTIONS (SET password ?)"},
		{PostgreSQL, "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password hunter2)", "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user ?, password ?)"},
		{PostgreSQL, "ALTER USER MAPPING FOR bob SERVER s OPTIONS (ADD sslpassword hunter2)", "ALTER USER MAPPING FOR bob SERVER s OPTIONS (ADD sslpassword ?)"},
		{PostgreSQL, `ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET "password" hunter2)`, `ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET "password" ?)`},
		{PostgreSQL, "ALTER USER MAPPING FOR bob SERVER s OPTIONS (DROP password)", "ALTER USER MAPPING FOR bob SERVER s OPTIONS (DROP password)"},
		{PostgreSQL, "CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (password hunter2)", "CREATE FOREIGN TABLE t (a int) SERVER s OPTIONS (password ?)"},
		{PostgreSQL, "IMPORT FOREIGN SCHEMA x FROM SERVER s INTO y OPTIONS (password hunter2)", "IMPORT FOREIGN SCHEMA x FROM SERVER s INTO y OPTIONS (password ?)"},
		// MySQL's REPLACE 'current password' and MariaDB's
		// PASSWORD('x') and OLD_PASSWORD('x'), the argument unquoted.
		{MySQL, "ALTER USER bob IDENTIFIED BY 'x' REPLACE hunter2 RETAIN CURRENT PASSWORD", "ALTER USER bob IDENTIFIED BY ? REPLACE ? RETAIN CURRENT PASSWORD"},
		{MySQL, "SET PASSWORD FOR bob = 'x' REPLACE hunter2", "SET PASSWORD FOR bob = ? REPLACE ?"},
		{MySQL, "SET PASSWORD FOR bob = PASSWORD(hunter2)", "SET PASSWORD FOR bob = PASSWORD(?)"},
		{MySQL, "SET PASSWORD = OLD_PASSWORD(hunter2)", "SET PASSWORD = OLD_PASSWORD(?)"},
		{MySQL, "ALTER USER bob IDENTIFIED VIA ed25519 USING PASSWORD(hunter2)", "ALTER USER bob IDENTIFIED VIA ed25519 USING PASSWORD(?)"},
		{MySQL, "START GROUP_REPLICATION USER='u', PASSWORD=hunter2", "START GROUP_REPLICATION USER=?, PASSWORD=?"},
		// SQLite's encryption keys (SQLCipher, SEE): a pragma's value
		// may be a bare word, which SQLite passes as it is.
		{SQLite, "PRAGMA key = hunter2", "PRAGMA key = ?"},
		{SQLite, "PRAGMA key=hunter2;", "PRAGMA key=?;"},
		{SQLite, "pragma main.rekey = hunter2", "pragma main.rekey = ?"},
		{SQLite, "PRAGMA hexkey(hunter2)", "PRAGMA hexkey(?)"},
		{Unknown, "PRAGMA textkey = hunter2", "PRAGMA textkey = ?"},
		{SQLite, "PRAGMA hexrekey = hunter2", "PRAGMA hexrekey = ?"},
		{SQLite, "PRAGMA textrekey = hunter2", "PRAGMA textrekey = ?"},
		{SQLite, "ATTACH DATABASE 'b.db' AS b KEY hunter2", "ATTACH DATABASE ? AS b KEY ?"},
		{SQLite, "PRAGMA journal_mode = WAL", "PRAGMA journal_mode = WAL"},
		{SQLite, "PRAGMA cipher_page_size = 4096", "PRAGMA cipher_page_size = ?"},
		{SQLite, "ATTACH DATABASE 'b.db' AS b", "ATTACH DATABASE ? AS b"},
		{MySQL, "CREATE OR REPLACE USER bob IDENTIFIED BY hunter2", "CREATE OR REPLACE USER bob IDENTIFIED BY ?"},
		{MySQL, "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (PORT 3306, USER 'u')", "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (PORT ?, USER ?)"},
		// Review 41: every statement of a text is classified, not only
		// its first; a statement's password state ends at its ;.
		{SQLite, "SELECT 1; PRAGMA key = s3cret", "SELECT ?; PRAGMA key = ?"},
		{SQLite, "SELECT 1; ATTACH 'x' AS k KEY s3cret", "SELECT ?; ATTACH ? AS k KEY ?"},
		{MySQL, "SELECT 1; ALTER USER u IDENTIFIED BY s3cret", "SELECT ?; ALTER USER u IDENTIFIED BY ?"},
		{PostgreSQL, "SELECT 1;\nALTER ROLE bob PASSWORD s3cret", "SELECT ?; ALTER ROLE bob PASSWORD ?"},
		{Unknown, "SELECT 1; PRAGMA key = s3cret", "SELECT ?; PRAGMA key = ?"},
		{Unknown, "SELECT 1; ATTACH 'x' AS k KEY s3cret", "SELECT ?; ATTACH ? AS k KEY ?"},
		{Unknown, "SELECT 1; ALTER USER u IDENTIFIED BY s3cret", "SELECT ?; ALTER USER u IDENTIFIED BY ?"},
		{MySQL, "ALTER USER u IDENTIFIED BY s3cret; SELECT 1", "ALTER USER u IDENTIFIED BY ?; SELECT ?"},
		{SQLite, "ATTACH 'x.db' AS k; SELECT key FROM k.kv", "ATTACH ? AS k; SELECT key FROM k.kv"},
		{Unknown, "ATTACH 'x.db' AS k; SELECT key FROM k.kv", "ATTACH ? AS k; SELECT key FROM k.kv"},
		{MySQL, "SET PASSWORD = 'x'; SET @a = 1", "SET PASSWORD = ?; SET @a = ?"},
		// A ; inside parentheses (a syntax error, or PostgreSQL's
		// CREATE RULE … DO (…; …)) starts a statement that is
		// classified, and the one around it keeps its state.
		{SQLite, "SELECT (1; PRAGMA key = s3cret", "SELECT (?; PRAGMA key = ?"},
		{MySQL, "CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (HOST 'h'; PASSWORD s3cret)", "CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (HOST ?; PASSWORD ?)"},
		// A pragma's name quoted (SQLite takes a string as a name there).
		{SQLite, `PRAGMA "key" = s3cretpass`, `PRAGMA ? = ?`},
		{Unknown, `PRAGMA "key" = s3cretpass`, `PRAGMA ? = ?`},
		{SQLite, `PRAGMA 'key' = s3cretpass`, `PRAGMA ? = ?`},
		{SQLite, "PRAGMA [rekey] = s3cretpass", "PRAGMA [rekey] = ?"},
		{SQLite, "PRAGMA `hexkey` = s3cretpass", "PRAGMA `hexkey` = ?"},
		{SQLite, `PRAGMA "main"."key" = s3cretpass`, `PRAGMA "main"."key" = ?`},
		{SQLite, `PRAGMA main."rekey" = s3cretpass`, `PRAGMA main."rekey" = ?`},
		{SQLite, `PRAGMA "journal_mode" = WAL`, `PRAGMA ? = WAL`},
	}
	for _, tt := range tests {
		if got := Normalize(tt.d, tt.in); got != tt.out {
			t.Errorf("Normalize(%v, %q)\n = %q\nwant %q", tt.d, tt.in, got, tt.out)
		}
	}
}

func TestOf(t *testing.T) {
	for in, want := range map[string]Dialect{
		"postgresql": PostgreSQL, "cockroachdb": PostgreSQL, "mysql": MySQL, "MariaDB": MySQL,
		"sqlite": SQLite, "": Unknown, "oracle.db": Unknown,
	} {
		if got := Of(in); got != want {
			t.Errorf("Of(%q) = %v, want %v", in, got, want)
		}
	}
	for _, d := range []Dialect{PostgreSQL, MySQL, SQLite} {
		if Of(d.String()) != d {
			t.Errorf("Of(%v.String()) = %v", d, Of(d.String()))
		}
	}
	if OfDriver(nil) != Unknown || OfDriver(struct{}{}) != Unknown || OfDriver(new(int)) != Unknown {
		t.Error("OfDriver of no driver is not Unknown")
	}
}

// FuzzNormalize checks that normalizing never panics, never grows a text,
// and is idempotent in a known dialect (for a normalized text without a
// backslash).
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"SELECT 'a''b' FROM t WHERE x = 1e+5", "/* x", "\"", "[", "WITH (", "e'", "$1$", `E'\`, "$a$ $b$",
		"/* /* */", `"a" . "b"`, "INSERT INTO t (\"a\"", "U&\"x", "0x", "#", "@@", "?1", `'\'`,
		"---#0", "--#\n-\x16", "SELECT 1--'\n, x, '", "/* /* */ 'a */ x '", "a--/**/\x01",
		"/*! 'a */ x ' */", "/*!50000 a */", "/*M!/*!1 */ */", "/*!50000a*/", "/*!500001e5*/", "x IN /*! (1,2) */",
		"PRAGMA key = a", "pragma s.rekey(a", "ATTACH x KEY a", "SET PASSWORD = PASSWORD(a)", "ALTER SERVER s OPTIONS (SET \"password\" a)",
		"ALTER USER u IDENTIFIED BY 'x' REPLACE a", "CREATE OR REPLACE SERVER s OPTIONS (PASSWORD a)", "/*!0!*/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range []Dialect{Unknown, PostgreSQL, MySQL, SQLite} {
			n := Normalize(d, s)
			if len(n) > len(s) {
				t.Errorf("%v: %q (%d bytes) grew to %q (%d)", d, s, len(s), n, len(n))
			}
			// A normalized text that keeps a backslash (in a quoted
			// identifier) is read both ways again, and may hide more
			// the second time: ."\""0" gives ."\""?? in MySQL, which
			// gives .? (so since texts are read both ways).
			if d != Unknown && !strings.Contains(n, `\`) {
				if again := Normalize(d, n); again != n {
					t.Errorf("%v: not idempotent: %q -> %q -> %q", d, s, n, again)
				}
			}
		}
	})
}
