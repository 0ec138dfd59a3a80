package sqlnorm

import (
	"slices"
	"strings"
)

// kind is the kind of a token.
type kind uint8

const (
	kSpace   kind = iota // white space
	kComment             // -- …, # … (MySQL), /* … */ (nested in PostgreSQL)
	kExec                // MySQL's /*!, /*!50000, /*M! or the */ that closes them, in the reading that runs executable comments
	kLiteral             // a string, number, blob, bit string, dollar-quoted or escape string
	kWord                // a keyword or an identifier
	kQuoted              // a quoted identifier: kept
	kParam               // a placeholder or variable: $1, ?, ?1, :name, @name, @@name
	kPunct               // one byte of punctuation or an operator
)

// A lexer splits a statement into tokens by the rules of one dialect.
type lexer struct {
	s string
	d Dialect
	i int
	// alt is the reading under the dialect's other server setting for
	// backslashes in ordinary strings (see backslash).
	alt bool
	// exec is MySQL's reading of executable comments (/*! … */,
	// /*!50000 … */, MariaDB's /*M! … */) as code, their openers and */
	// as kExec tokens; inExec is set inside one. sawExec is set when a
	// MySQL lexer that reads them as comments has read one: the text
	// must be read the other way too (see normalizeExec).
	exec, inExec, sawExec bool

	// Context for SQLite's and MySQL's double quotes, which are identifiers
	// or strings depending on where they stand.
	prev     kind   // the last significant token (not space or comment)
	prevText string // its text
	prev2    string // the text of the significant token before it
	ddl      bool   // the statement is CREATE, ALTER or DROP
	// The reading of a password written without quotes (see password).
	// pw is the kind of statement that may hold one, told by its first
	// words (see classify, which counts them in nsig, lead naming the
	// first); armed is set when the next significant token is where the
	// password stands, run while the tokens of one are read (up to white
	// space, a comment or , ; )), cont when the last token password
	// returned continues one; ident follows IDENTIFIED [WITH|VIA plugin].
	// A ; ends the statement (see endStatement): the next is classified
	// anew, and hadPw tells that an earlier one of the text was of a kind.
	// nest is set when the statement's first word does not rule out a
	// statement inside it (see nested); sub while its first words are
	// read by classify; do in a DO statement. wide is set when an executable comment stands
	// at or in a password's run (see password).
	pw         pwKind
	hadPw      bool
	nsig, lead byte
	ident      byte
	armed, run bool
	cont, wide bool
	nest, sub  bool
	do         bool
	// routine, bodyTag: see stmt below (kept with the other bytes).
	routine bool
	bodyTag uint8
	depth   int // parenthesis depth
	colList int // depth of an INSERT INTO name (…) column list; 0 when outside one
	// PostgreSQL's routine bodies read as code (see body): routine is set
	// in a CREATE [OR REPLACE] FUNCTION or PROCEDURE, stmt is where the
	// statement began, and bodyEnd, when not 0, where the closing tag of
	// the body being read stands (bodyTag its length; see inBody).
	stmt, bodyEnd int
	// langs are the offsets of the words LANGUAGE in s, found once a
	// text on the first body's search for its language (langsRead set
	// then): each body looks them up instead of reading the rest of the
	// text (see languageWords).
	langs     []int
	langsRead bool
}

func newLexer(s string, d Dialect) *lexer { return &lexer{s: s, d: d, prev: kSpace} }

// newAltLexer returns a lexer of d's other reading of backslashes (see
// backslash).
func newAltLexer(s string, d Dialect) *lexer { return &lexer{s: s, d: d, alt: true, prev: kSpace} }

// newExecLexer returns a MySQL lexer that reads executable comments as
// code, with backslashes read as alt says (see backslash).
func newExecLexer(s string, alt bool) *lexer {
	return &lexer{s: s, d: MySQL, alt: alt, exec: true, prev: kSpace}
}

// backslash reports whether a backslash escapes the byte after it in the
// lexer's ordinary strings: a server setting decides, which the client
// cannot see. MySQL and MariaDB escape by default and not with
// NO_BACKSLASH_ESCAPES (their alternate reading); PostgreSQL does not by
// default, and does with standard_conforming_strings off (its alternate
// reading). SQLite never does.
func (l *lexer) backslash() bool {
	switch l.d {
	case MySQL:
		return !l.alt
	case PostgreSQL:
		return l.alt
	}
	return false
}

// next returns the next token's kind and end; start is l.i before the call.
// It returns false at the end of the text.
func (l *lexer) next() (k kind, start, end int, ok bool) {
	s, i := l.s, l.i
	if i >= len(s) {
		return 0, i, i, false
	}
	start = i
	k, end = l.scan(i)
	if l.bodyEnd > 0 && start < l.bodyEnd && end > l.bodyEnd && k != kComment {
		// A token of a routine's body left open runs over its closing
		// tag, where PostgreSQL ends the body: what follows is another
		// statement. The token ends at the tag; a string or quoted
		// identifier cut there is hidden. (A comment left open hides
		// the rest of the text, as it does anywhere.)
		if k != kWord && k != kParam {
			k = kLiteral
		}
		end = l.bodyEnd
	}
	l.i = end
	if k > kExec {
		l.note(k, s[start:end])
	}
	return k, start, end, true
}

// A pwKind is a kind of statement that may hold a password written
// without a string's quotes (see password).
type pwKind uint8

const (
	pwNone  pwKind = iota
	pwRole         // CREATE, ALTER or DROP [OR REPLACE] USER, ROLE, GROUP, SERVER or FOREIGN …, IMPORT: PASSWORD x, IDENTIFIED BY x
	pwGrant        // GRANT (MySQL 5), CLONE INSTANCE FROM u@h:port: IDENTIFIED BY x
	pwSet          // SET PASSWORD [FOR user] = x
	pwRepl         // CHANGE MASTER|REPLICATION SOURCE, START REPLICA|SLAVE|GROUP_REPLICATION: [MASTER_|SOURCE_]PASSWORD = x
	pwKey          // SQLite's PRAGMA [schema.]key|rekey|hexkey|… = x or (x), ATTACH … KEY x
)

// classify is called by note with the statement's first four significant
// tokens: it sets ddl (the first word is CREATE, ALTER or DROP) and pw.
// A role's statement is told by its second word (its fourth after
// CREATE OR REPLACE): ALTER TABLE user … is not one. A foreign server's,
// user mapping's or foreign table's statement (CREATE SERVER, ALTER
// FOREIGN TABLE, IMPORT FOREIGN SCHEMA) is read as a role's: its OPTIONS
// (password 'x') hold one. A pragma's name is its second word, or its
// fourth after a schema (PRAGMA main.key).
func (l *lexer) classify(k kind, text string) {
	l.nsig++
	if k != kWord {
		if l.nsig == 1 {
			l.nsig = 4 // a statement of no interest: stop counting
			l.nest = true
		} else if l.lead == 'p' {
			l.quotedPragma(text)
		}
		return
	}
	switch l.nsig {
	case 1:
		up := strings.ToUpper(text)
		if !l.sub {
			l.nest = nests(up)
			l.do = up == "DO"
		}
		switch up {
		case "PASSWORD", "IDENTIFIED":
			l.pw = pwRole // in a DO statement (see nested)
		case "CREATE", "ALTER", "DROP":
			l.lead = 'c'
			l.ddl = l.ddl || !l.sub
		case "GRANT", "CLONE":
			l.pw = pwGrant
		case "CHANGE":
			// CHANGE MASTER|REPLICATION, told by its second word:
			// not ALTER TABLE … CHANGE col in a routine's body.
			l.lead = 'h'
		case "SET":
			l.lead = 's'
		case "START":
			l.lead = 't'
		case "PRAGMA":
			l.lead = 'p'
		case "ATTACH":
			l.pw = pwKey
		case "IMPORT":
			l.pw = pwRole
		}
		if l.lead == 0 {
			l.nsig = 4 // no later word tells more: stop counting
		}
	case 2:
		switch {
		case l.lead == 'c' && (strings.EqualFold(text, "USER") || strings.EqualFold(text, "ROLE") || strings.EqualFold(text, "GROUP") ||
			strings.EqualFold(text, "SERVER") || strings.EqualFold(text, "FOREIGN")):
			l.pw = pwRole
		case l.lead == 'c' && strings.EqualFold(text, "OR"):
			l.lead = 'o'
		case l.lead == 'c' && !l.sub && (strings.EqualFold(text, "FUNCTION") || strings.EqualFold(text, "PROCEDURE")):
			l.routine = true
		case l.lead == 'c' && !l.sub && notNested(text):
			l.nest = false
		case l.lead == 's' && strings.EqualFold(text, "PASSWORD"):
			l.pw = pwSet
		case l.lead == 's' && strings.EqualFold(text, "STATEMENT"):
			l.nest = true // MariaDB's SET STATEMENT var = value FOR <statement>
		case l.lead == 't' && (strings.EqualFold(text, "REPLICA") || strings.EqualFold(text, "SLAVE") || strings.EqualFold(text, "GROUP_REPLICATION")),
			l.lead == 'h' && (strings.EqualFold(text, "MASTER") || strings.EqualFold(text, "REPLICATION")):
			l.pw = pwRepl
		case l.lead == 'p' && keyPragma(text):
			l.pw = pwKey
		}
	case 4:
		switch {
		case l.lead == 'o' && (strings.EqualFold(text, "USER") || strings.EqualFold(text, "ROLE") || strings.EqualFold(text, "SERVER")):
			l.pw = pwRole
		case l.lead == 'o' && !l.sub && (strings.EqualFold(text, "FUNCTION") || strings.EqualFold(text, "PROCEDURE")):
			l.routine = true
		case l.lead == 'p' && l.prevText == "." && keyPragma(text):
			l.pw = pwKey
		}
	}
}

// nests reports whether a statement whose first word is up (upper case)
// may hold another statement: a routine's or trigger's body (CREATE
// PROCEDURE … BEGIN … END, CREATE TRIGGER … FOR EACH ROW SET …, CREATE
// EVENT … DO …), a compound statement (MariaDB's BEGIN NOT ATOMIC … END,
// IF … THEN … END IF), MySQL's DO, PostgreSQL's DO block read by another
// dialect ($$ is a word in MySQL's): all but SELECT, INSERT, UPDATE,
// DELETE, WITH, VALUES, TABLE, SET, SHOW, COMMIT, ROLLBACK, TRUNCATE,
// COPY and DROP, which hold none (nor do CREATE and ALTER of a table, an
// index, a view, a sequence, a database, a schema or a type: see
// notNested) — but for MariaDB's SET STATEMENT var = value FOR
// <statement>, told by its second word (see classify). In such a
// statement each word that may begin one that holds a password begins its
// classification anew (see nested).
func nests(up string) bool {
	switch up {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "TABLE",
		"SET", "SHOW", "COMMIT", "ROLLBACK", "TRUNCATE", "COPY", "DROP":
		return false
	}
	return true
}

// notNested reports whether a CREATE or ALTER whose second word is w
// holds no other statement: one of a table, an index, a view, a sequence,
// a database, a schema or a type.
func notNested(w string) bool {
	switch strings.ToUpper(w) {
	case "TABLE", "INDEX", "UNIQUE", "VIEW", "SEQUENCE", "DATABASE", "SCHEMA", "TYPE":
		return true
	}
	return false
}

// nested is note's test, in a statement that may hold another (l.nest) and
// is not yet of a kind, of whether the word text may begin a statement
// that holds a password: CREATE, ALTER, DROP, GRANT, CHANGE, CLONE, SET,
// START, PRAGMA, ATTACH or IMPORT. Its words are then read by classify as a
// statement's first words (BEGIN ALTER USER u IDENTIFIED BY x; END). In a
// DO statement (do), PASSWORD and IDENTIFIED are read as in a role's
// statement wherever they stand: its body is code to MySQL's reading,
// where $$ is a word, and PostgreSQL's may end it early (at a $$ in what
// another reading takes as a comment) — but for SET PASSWORD's.
func (l *lexer) nested(text string) bool {
	// By the first letter first: most words begin none of these.
	switch text[0] | 0x20 {
	case 's':
		return len(text) == 3 && strings.EqualFold(text, "SET") || len(text) == 5 && strings.EqualFold(text, "START")
	case 'd':
		return len(text) == 4 && strings.EqualFold(text, "DROP")
	case 'a':
		return len(text) == 5 && strings.EqualFold(text, "ALTER") || len(text) == 6 && strings.EqualFold(text, "ATTACH")
	case 'g':
		return len(text) == 5 && strings.EqualFold(text, "GRANT")
	case 'c':
		return len(text) == 6 && (strings.EqualFold(text, "CREATE") || strings.EqualFold(text, "CHANGE")) || len(text) == 5 && strings.EqualFold(text, "CLONE")
	case 'p':
		return len(text) == 6 && strings.EqualFold(text, "PRAGMA") ||
			l.do && len(text) == 8 && strings.EqualFold(text, "PASSWORD") && !(l.lead == 's' && l.nsig == 1)
	case 'i':
		return len(text) == 6 && strings.EqualFold(text, "IMPORT") || l.do && len(text) == 10 && strings.EqualFold(text, "IDENTIFIED")
	}
	return false
}

// bodyDML is note's test, in a statement that may hold another (l.nest),
// of whether the word text begins a SELECT, INSERT, UPDATE, DELETE, REPLACE
// or WITH statement of a body: one that stands where a body's statement
// begins — after BEGIN, THEN, ELSE, DO, LOOP, REPEAT, a trigger's FOR EACH
// ROW, BEGIN ATOMIC, a rule's DO ALSO or INSTEAD, or a routine's ) — and
// holds none inside it, so that its SET, and a DO's PASSWORD, are read as
// a column's (UPDATE users SET password = NEW.pw keeps NEW.pw). Elsewhere
// (a trigger's BEFORE UPDATE, a SELECT in parentheses) the word tells
// nothing.
func (l *lexer) bodyDML(text string) bool {
	switch text[0] | 0x20 {
	case 's', 'i', 'u', 'd', 'r', 'w':
	default:
		return false
	}
	switch strings.ToUpper(text) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
	default:
		return false
	}
	switch l.prev {
	case kWord:
		switch strings.ToUpper(l.prevText) {
		case "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", "ROW", "ATOMIC", "ALSO", "INSTEAD":
			return true
		}
	case kPunct:
		return l.prevText == ")" && l.depth == 0
	}
	return false
}

// quotedPragma is classify for a pragma's name that is not a word: a
// quoted name (PRAGMA "key", SQLite's PRAGMA 'key', where a string that
// stands for a name is one) is read as the word it quotes.
func (l *lexer) quotedPragma(text string) {
	name, ok := unquoteName(text)
	if ok && keyPragma(name) && (l.nsig == 2 || l.nsig == 4 && l.prevText == ".") {
		l.pw = pwKey
	}
}

// unquoteName returns a quoted name's text without its quotes ("…", '…',
// `…`, […]), or false when text is not quoted.
func unquoteName(text string) (string, bool) {
	if n := len(text); n > 2 {
		switch q := text[0]; {
		case q == '"' || q == '\'' || q == '`':
			if text[n-1] == q {
				return text[1 : n-1], true
			}
		case q == '[':
			if text[n-1] == ']' {
				return text[1 : n-1], true
			}
		}
	}
	return "", false
}

// keyPragma reports whether a pragma of that name sets an encryption key
// (SQLCipher's and SEE's key, rekey, hexkey, hexrekey, textkey, textrekey).
func keyPragma(name string) bool {
	switch strings.ToLower(name) {
	case "key", "rekey", "hexkey", "hexrekey", "textkey", "textrekey":
		return true
	}
	return false
}

// password is called after next when the statement may hold a password
// (rare: its first words told, l.pw), with the token next returned; it
// returns its kind, reading a password written without a string's quotes
// as a literal: the run of tokens up to white space, a comment or , ; )
// where the password stands — after PASSWORD in a USER's or ROLE's
// statement, after IDENTIFIED [WITH|VIA plugin] BY (or AS, USING after a
// plugin) there and in GRANT and CLONE INSTANCE, after SET PASSWORD [FOR
// user] = (or TO), after [MASTER_|SOURCE_]PASSWORD [=] in CHANGE MASTER,
// CHANGE REPLICATION SOURCE and START REPLICA or GROUP_REPLICATION, after REPLACE (the current
// password) in a USER's statement and SET PASSWORD, inside PASSWORD( and
// OLD_PASSWORD( there, after sslpassword or a quoted "password" in a
// foreign server's OPTIONS, after a key pragma's = or ( and ATTACH's KEY
// in SQLite. l.cont is set when the token continues such a run. An
// unquoted password is a syntax error on the server (which then quotes it
// in its error: recorded errors hide quoted fragments), but the
// statement's text is recorded too. A placeholder stays, and so do a
// function's name (PASSWORD('x')) and PostgreSQL's PASSWORD NULL, MySQL's
// PASSWORD EXPIRE, HISTORY, REUSE, REQUIRE, BY RANDOM PASSWORD.
func (l *lexer) password(k kind, start, end int) kind {
	l.cont = false
	if k <= kExec {
		if (l.armed || l.run) && (k == kExec || k == kComment && l.d == MySQL && execOpen(l.s, start) > 0) {
			// An executable comment where the password stands or
			// in its run: its content is the password to MySQL,
			// and what follows its */ may be too (/*!80000 a */ b).
			l.wide = true
		}
		if !l.wide {
			l.run = false
		}
		return k
	}
	w := l.s[start:end]
	if l.run {
		if k != kPunct || w != "," && w != ";" && w != ")" {
			l.cont = true
			return kLiteral
		}
		l.run, l.wide = false, false
	}
	if l.armed {
		l.armed = false
		if k == kPunct && w == "=" {
			l.armed = true
			return k
		}
		if l.secret(k, w, end) {
			l.run = true
			return kLiteral
		}
		l.wide = false
	}
	l.arm(k, w)
	return k
}

// secret reports whether the token w of kind k, where a password stands
// (l.armed), is one.
func (l *lexer) secret(k kind, w string, end int) bool {
	switch k {
	case kParam:
		return false
	case kPunct:
		return w != "," && w != ";" && w != ")" && w != "("
	case kWord:
		if end < len(l.s) && l.s[end] == '(' {
			return false // a function: PASSWORD('x')
		}
		switch strings.ToUpper(w) {
		case "NULL", "EXPIRE", "HISTORY", "REUSE", "REQUIRE", "PASSWORD", "RANDOM":
			return false
		}
	}
	return true
}

// arm sets l.armed when the password stands after the token w of kind k,
// and l.ident to follow IDENTIFIED [WITH|VIA plugin].
func (l *lexer) arm(k kind, w string) {
	id := l.ident
	l.ident = 0
	if k == kPunct && w == "(" && (strings.EqualFold(l.prev2, "PASSWORD") || strings.EqualFold(l.prev2, "OLD_PASSWORD")) {
		l.armed = true // MariaDB's PASSWORD(x), OLD_PASSWORD(x)
		return
	}
	if k == kWord && strings.EqualFold(w, "REPLACE") && !strings.EqualFold(l.prev2, "OR") {
		l.armed = true // MySQL's REPLACE 'current password'
		return
	}
	switch l.pw {
	case pwSet:
		l.armed = k == kPunct && w == "=" || k == kWord && strings.EqualFold(w, "TO")
		return
	case pwKey:
		l.armed = k == kPunct && (w == "=" || w == "(") || k == kWord && strings.EqualFold(w, "KEY")
		return
	}
	if k == kQuoted && len(w) > 2 && l.pw == pwRole {
		// A foreign server's option, its name quoted: "password".
		k, w = kWord, w[1:len(w)-1]
	}
	if id == 2 {
		l.ident = 3 // the plugin, a word or a string
		return
	}
	if k != kWord {
		return
	}
	switch {
	case strings.EqualFold(w, "IDENTIFIED"):
		l.ident = 1
	case id == 1 && (strings.EqualFold(w, "WITH") || strings.EqualFold(w, "VIA")):
		l.ident = 2
	case (id == 1 || id == 3) && strings.EqualFold(w, "BY"),
		id == 3 && (strings.EqualFold(w, "AS") || strings.EqualFold(w, "USING")):
		l.armed = true
	case l.pw == pwRepl:
		l.armed = strings.EqualFold(w, "PASSWORD") || strings.EqualFold(w, "MASTER_PASSWORD") || strings.EqualFold(w, "SOURCE_PASSWORD")
	case strings.EqualFold(w, "SSLPASSWORD"):
		l.armed = l.pw == pwRole // a user mapping's libpq option
	case strings.EqualFold(w, "PASSWORD"):
		// IDENTIFIED BY PASSWORD 'hash' (MySQL 5) anywhere; in a
		// role's statement PASSWORD x, but not RETAIN CURRENT
		// PASSWORD, DISCARD OLD PASSWORD, BY RANDOM PASSWORD.
		p := l.prev2
		l.armed = strings.EqualFold(p, "BY") || l.pw == pwRole &&
			!strings.EqualFold(p, "CURRENT") && !strings.EqualFold(p, "OLD") && !strings.EqualFold(p, "RANDOM")
	}
}

// note updates the context with a significant token.
func (l *lexer) note(k kind, text string) {
	if l.nest && l.pw == pwNone && k == kWord {
		if l.nested(text) {
			l.nsig, l.lead, l.sub = 0, 0, true
		} else if l.bodyDML(text) {
			// A body's SELECT, INSERT, UPDATE, DELETE, REPLACE or
			// WITH holds no statement up to its ;: its SET is a
			// clause (UPDATE t SET password = NEW.pw).
			l.nest = false
		}
	}
	if l.nsig < 4 {
		l.classify(k, text)
	}
	if k == kPunct { // one byte
		switch text[0] {
		case '(':
			l.depth++
			if l.prev2 != "" && strings.EqualFold(l.prev2, "INTO") && (l.prev == kWord || l.prev == kQuoted) {
				l.colList = l.depth
			}
		case ')':
			if l.colList == l.depth {
				l.colList = 0
			}
			l.depth--
		case ';':
			l.endStatement()
		}
	}
	l.prev2 = l.prevText
	l.prev, l.prevText = k, text
}

// endStatement is called at a ;, which ends a statement: the next one is
// classified by its own first words (SELECT 1; PRAGMA key = x holds a key),
// and a password's state does not carry into it. A ; inside parentheses (a
// syntax error, or PostgreSQL's CREATE RULE … DO (…; …)) starts a
// statement that is classified too, and the one around it keeps its kind:
// either may hold a password.
func (l *lexer) endStatement() {
	l.nsig, l.lead = 0, 0
	l.nest, l.sub, l.do = false, false, false
	if l.depth > 0 {
		return
	}
	if l.pw != pwNone {
		l.hadPw = true
	}
	l.pw, l.ident = pwNone, 0
	l.armed, l.run, l.cont, l.wide = false, false, false, false
	l.ddl = false
	l.depth, l.colList = 0, 0
	if !l.inBody() {
		// Not a ; inside a routine's body: a statement of the text.
		l.routine, l.stmt = false, l.i
	}
}

// scan returns the kind and end of the token at i.
func (l *lexer) scan(i int) (kind, int) {
	s, d := l.s, l.d
	c := s[i]
	switch {
	case isSpace(c):
		j := i + 1
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		return kSpace, j
	case c == '-' && i+1 < len(s) && s[i+1] == '-' && (d != MySQL || i+2 == len(s) || isSpaceOrControl(s[i+2])),
		c == '#' && d == MySQL:
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return kComment, len(s)
		}
		return kComment, i + j
	case c == '/' && i+1 < len(s) && s[i+1] == '*':
		if d == MySQL {
			if end := execOpen(s, i); end > 0 {
				if l.exec {
					// One inside another opens it again, as
					// in MySQL: the first */ closes.
					l.inExec = true
					return kExec, end
				}
				l.sawExec = true
			}
		}
		return kComment, blockComment(s, i, d == PostgreSQL)
	case c == '\'':
		return kLiteral, literal(s, i, '\'', l.backslash())
	case c == '"':
		if d == PostgreSQL {
			return l.quotedIdent(i, '"')
		}
		end, closed := quoted(s, i, '"', l.backslash())
		if closed && l.certainIdent(end) {
			return kQuoted, end
		}
		return kLiteral, end
	case c == '`' && d != PostgreSQL:
		return l.quotedIdent(i, '`')
	case c == '[' && d == SQLite:
		j := strings.IndexByte(s[i+1:], ']')
		if j < 0 {
			return kLiteral, len(s)
		}
		return kQuoted, i + 1 + j + 1
	case c == '$' && d == PostgreSQL:
		return l.dollar(i)
	case c == '$' && d == SQLite && i+1 < len(s) && (isIdentStart(s[i+1]) || isDigit(s[i+1])):
		return kParam, identEnd(s, i+1, false)
	case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
		return kLiteral, numberEnd(s, i)
	case c == '?':
		return kParam, digitsEnd(s, i+1)
	case (c == ':' || c == '@') && i+1 < len(s) && isIdentStart(s[i+1]):
		return kParam, identEnd(s, i+1, d != SQLite)
	case c == '@' && i+2 < len(s) && s[i+1] == '@' && isIdentStart(s[i+2]):
		return kParam, identEnd(s, i+2, true)
	case isIdentStart(c) || c == '$' && d == MySQL:
		j := identEnd(s, i, d != SQLite)
		if k, end, ok := l.prefixed(i, j); ok {
			return k, end
		}
		return kWord, j
	case c == '*' && l.inExec && i+1 < len(s) && s[i+1] == '/':
		l.inExec = false
		return kExec, i + 2
	}
	return kPunct, i + 1
}

// dollar is scan for PostgreSQL's "$" at i: a placeholder ($1), a
// dollar-quoted string, a routine's body's opening or closing tag (see
// body), or punctuation.
func (l *lexer) dollar(i int) (kind, int) {
	s := l.s
	if l.bodyEnd > 0 && i >= l.bodyEnd {
		end := i + int(l.bodyTag)
		close := i == l.bodyEnd
		l.bodyEnd, l.bodyTag = 0, 0 // (a comment of the body that ran over it hid it; any other token ends at it, see next)
		if close {
			return kPunct, end // the body's closing tag
		}
	}
	if i+1 < len(s) && isDigit(s[i+1]) {
		return kParam, digitsEnd(s, i+1)
	}
	if end, ok := dollarQuoted(s, i); ok {
		if tag := strings.IndexByte(s[i+1:], '$') + 2; l.body(i, tag, end) {
			return kPunct, i + tag // the body's opening tag: its content is read as code
		}
		return kLiteral, end
	}
	return kPunct, i + 1
}

// body reports whether the dollar-quoted string at i, its tag tag bytes
// long, ending at end, is the body of a PostgreSQL routine in PL/pgSQL or
// SQL, which is read as code (its literals hidden, its keywords and names
// kept, its statements told by their own first words, as in any routine's
// body), so that DO $$ BEGIN PERFORM refresh(); END $$ is not written
// DO ? as every other DO block: a DO block's (after DO, or DO LANGUAGE
// name), and a CREATE FUNCTION's or PROCEDURE's after AS. Its language
// must be plpgsql or sql, named once in the statement and in no later one
// of the text (LANGUAGE plpgsql, before or after the body; a DO block's
// is plpgsql when it names none): any other language's code (plpython3u,
// plv8, C's object file) may quote its strings otherwise, and is hidden
// whole, as is a body not closed. When it is read, l.bodyEnd is set.
func (l *lexer) body(i, tag, end int) bool {
	s := l.s
	if l.inBody() || tag > 255 || end-tag < i+tag || s[end-tag:end] != s[i:i+tag] {
		return false // in a body, a tag too long for bodyTag, or not closed
	}
	var dflt bool
	switch {
	case l.do && l.lead == 0 && l.prev == kWord && (strings.EqualFold(l.prevText, "DO") || strings.EqualFold(l.prev2, "LANGUAGE")):
		dflt = true
	case l.routine && l.prev == kWord && strings.EqualFold(l.prevText, "AS"):
	default:
		return false
	}
	lang := ""
	for _, part := range [2][2]int{{l.stmt, i}, {end, len(s)}} {
		ps, n := l.languageWords(part[0], part[1])
		for _, p := range ps[:n] {
			if lang != "" {
				return false // named twice
			}
			q := p + len("language")
			for q < part[1] && isSpace(s[q]) {
				q++
			}
			e := q
			for e < part[1] && (isWordByte(s[e]) || s[e] == '\'') {
				e++
			}
			if lang = strings.ToLower(strings.Trim(s[q:e], "'")); lang == "" {
				return false
			}
		}
	}
	if lang == "" && !dflt || lang != "" && lang != "plpgsql" && lang != "sql" {
		return false
	}
	l.bodyEnd, l.bodyTag = end-tag, uint8(tag)
	return true
}

// inBody reports whether the lexer reads a routine's body (see body): its
// closing tag is ahead (a comment that ran over it hid it).
func (l *lexer) inBody() bool { return l.bodyEnd > 0 && l.i <= l.bodyEnd }

// languageWords returns the offsets of the first two words LANGUAGE in
// s[a:b], read as a text of its own: a word there starts at a or after a
// byte not a word's, and ends at b or before one. The words of the whole
// text are found once (l.langs); those of s[a:b] are looked up among them,
// and only a word at a or ending at b is read again, so that a text of
// many bodies is not read again for each.
func (l *lexer) languageWords(a, b int) (ps [2]int, n int) {
	const w = len("language")
	s := l.s
	if !l.langsRead {
		l.langsRead = true
		// Each "l" and "L" in turn, each found by strings.IndexByte.
		lo, up := strings.IndexByte(s, 'l'), strings.IndexByte(s, 'L')
		for lo >= 0 || up >= 0 {
			p := lo
			if p < 0 || up >= 0 && up < p {
				p = up
			}
			if p+w <= len(s) && s[p+w-1]|0x20 == 'e' && strings.EqualFold(s[p:p+w], "language") && (p == 0 || !isWordByte(s[p-1])) && (p+w == len(s) || !isWordByte(s[p+w])) {
				l.langs = append(l.langs, p)
			}
			if p == lo {
				if lo = strings.IndexByte(s[p+1:], 'l'); lo >= 0 {
					lo += p + 1
				}
			} else if up = strings.IndexByte(s[p+1:], 'L'); up >= 0 {
				up += p + 1
			}
		}
	}
	word := func(p int) bool {
		return p >= a && p+w <= b && s[p]|0x20 == 'l' && s[p+w-1]|0x20 == 'e' && strings.EqualFold(s[p:p+w], "language") &&
			(p == a || !isWordByte(s[p-1])) && (p+w == b || !isWordByte(s[p+w]))
	}
	add := func(p int) {
		if n < len(ps) {
			ps[n] = p
			n++
		}
	}
	if word(a) {
		add(a)
	}
	// Between a and b, a word of s[a:b] is one of the whole text's.
	for j, _ := slices.BinarySearch(l.langs, a+1); j < len(l.langs) && l.langs[j]+w < b && n < len(ps); j++ {
		add(l.langs[j])
	}
	if b-w > a && word(b-w) {
		add(b - w)
	}
	return ps, n
}

func isWordByte(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// execOpen returns the end of the executable comment's opener at i — /*!
// or MariaDB's /*M!, and the digits of a version after it — or 0 when the
// comment at i is not one. The digits are taken with the opener however
// many they are (MySQL reads five or six as a version, fewer as a number),
// and none of them is written (see execText). When what follows them would
// make them part of a longer number or word (/*!0x41, /*!50000e1), they are
// left to be read as a number, a literal — unless they are a version's
// five or six digits before a word that cannot continue a number:
// /*!50000STRAIGHT_JOIN*/ is STRAIGHT_JOIN to MySQL (see versionGlued).
func execOpen(s string, i int) int {
	j := i + 2
	if j < len(s) && s[j] == 'M' {
		j++
	}
	if j >= len(s) || s[j] != '!' {
		return 0
	}
	j++
	if k := digitsEnd(s, j); k > j && (numberEnd(s, j) == k || versionGlued(s, j, k)) {
		return k
	}
	return j
}

// versionGlued reports whether the digits s[j:k] after an executable
// comment's opener are a version glued to a word: five or six of them (a
// MySQL version, a MariaDB one) before a letter, an underscore or a byte
// of UTF-8 that no reading takes as part of a number with any of the
// digits before it. That excludes e and E (an exponent: 500001e5 is
// 50000 and 1e5 to a server that reads five digits), x, X, b and B (0x41,
// 0b1 after a version ending in 0).
func versionGlued(s string, j, k int) bool {
	if n := k - j; n < 5 || n > 6 || k >= len(s) || !isIdentStart(s[k]) {
		return false
	}
	switch s[k] | 0x20 {
	case 'e', 'x', 'b':
		return false
	}
	return true
}

// execText is how a kExec token is written: the opener without its
// version digits, or */.
func execText(tok string) string {
	switch {
	case tok == "*/":
		return tok
	case tok[2] == 'M':
		return "/*M!"
	}
	return "/*!"
}

// prefixed recognizes the literals written as a letter before a quote —
// E'…', X'…', B'…', N'…', U&'…' — and PostgreSQL's U&"…" identifiers,
// given the word s[i:j].
func (l *lexer) prefixed(i, j int) (kind, int, bool) {
	s, d := l.s, l.d
	if j-i != 1 || j >= len(s) {
		return 0, 0, false
	}
	p := s[i] | 0x20 // lower case
	switch {
	case s[j] == '\'':
		switch {
		case p == 'e' && d == PostgreSQL:
			return kLiteral, literal(s, j, '\'', true), true
		case p == 'x' || p == 'b' || p == 'n':
			return kLiteral, literal(s, j, '\'', l.backslash()), true
		}
	case p == 'u' && d == PostgreSQL && s[j] == '&' && j+1 < len(s):
		switch s[j+1] {
		case '\'':
			return kLiteral, literal(s, j+1, '\'', false), true
		case '"':
			k, end := l.quotedIdent(j+1, '"')
			return k, end, true
		}
	}
	return 0, 0, false
}

// quotedIdent scans an identifier quoted with q (doubled inside); an
// unterminated one is taken as a literal, as it may swallow one.
func (l *lexer) quotedIdent(i int, q byte) (kind, int) {
	end, closed := quoted(l.s, i, q, false)
	if !closed {
		return kLiteral, end
	}
	return kQuoted, end
}

// certainIdent reports whether a double-quoted token ending at end can only
// be an identifier where it stands: after FROM, JOIN, INTO, UPDATE, TABLE,
// AS and the like, before or after a dot, in an INSERT's column list, or in
// the column definitions of CREATE or ALTER. Anywhere else SQLite and MySQL
// may read it as a string, and it is taken as one.
func (l *lexer) certainIdent(end int) bool {
	if l.prev == kPunct && l.prevText == "." {
		return true
	}
	j := end
	for j < len(l.s) && isSpace(l.s[j]) {
		j++
	}
	if j < len(l.s) && l.s[j] == '.' && !(j+1 < len(l.s) && isDigit(l.s[j+1])) {
		return true
	}
	switch l.prev {
	case kWord:
		switch strings.ToUpper(l.prevText) {
		case "FROM", "JOIN", "INTO", "UPDATE", "TABLE", "VIEW", "INDEX", "TRIGGER", "EXISTS", "AS", "SET":
			return true
		}
	case kPunct:
		if l.prevText == "(" || l.prevText == "," {
			return l.colList != 0 && l.colList == l.depth || l.ddl && l.depth == 1
		}
	}
	return false
}

// quoted returns the end of the string or identifier opened by q at i: a
// doubled quote is a quote, and so is a backslash-escaped one when
// backslash is set. An unterminated literal runs to the end of the text,
// and closed is false.
func quoted(s string, i int, q byte, backslash bool) (end int, closed bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(s), false
}

// literal returns the end of the string opened by q at i.
func literal(s string, i int, q byte, backslash bool) int {
	end, _ := quoted(s, i, q, backslash)
	return end
}

// blockComment returns the end of the comment opened at i. In PostgreSQL
// (and the SQL standard) comments nest; in MySQL and SQLite they do not: the
// first */ ends the comment, and a /* inside it is text. Neither reading
// hides everything the other does — /* /* */ 'a */ is a comment then a
// string in MySQL, a comment then a quote in PostgreSQL — so the Unknown
// dialect reads both ways.
func blockComment(s string, i int, nest bool) int {
	if !nest {
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			return len(s)
		}
		return i + 2 + j + 2
	}
	depth := 0
	for j := i; j+1 < len(s); j++ {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j++
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// dollarQuoted reports whether a PostgreSQL dollar-quoted string ($$…$$ or
// $tag$…$tag$) opens at i, and where it ends (the end of the text when it
// is not closed).
func dollarQuoted(s string, i int) (int, bool) {
	j := i + 1
	if j < len(s) && isIdentStart(s[j]) {
		for j < len(s) && (isIdentStart(s[j]) || isDigit(s[j])) {
			j++
		}
	}
	if j >= len(s) || s[j] != '$' {
		return 0, false
	}
	tag := s[i : j+1]
	k := strings.Index(s[j+1:], tag)
	if k < 0 {
		return len(s), true
	}
	return j + 1 + k + len(tag), true
}

// numberEnd returns the end of a number at i. Letters, digits, dots and
// underscores that follow are taken with it (hexadecimal, binary and octal
// forms, 1_000, and trailing junk that PostgreSQL would reject), as is the
// sign of an exponent.
func numberEnd(s string, i int) int {
	j := i + 1
	for j < len(s) {
		c := s[j]
		switch {
		case isIdentStart(c) || isDigit(c) || c == '.':
			j++
		case (c == '+' || c == '-') && (s[j-1] == 'e' || s[j-1] == 'E') && !isHexPrefix(s[i:j]):
			j++
		default:
			return j
		}
	}
	return j
}

func isHexPrefix(s string) bool { return len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') }

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// identEnd returns the end of the identifier at i; dollar says whether $ is
// an identifier character (PostgreSQL, MySQL).
func identEnd(s string, i int, dollar bool) int {
	j := i + 1
	for j < len(s) && (isIdentStart(s[j]) || isDigit(s[j]) || dollar && s[j] == '$') {
		j++
	}
	return j
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isSpaceOrControl reports whether c may follow MySQL's -- for it to open a
// comment: white space or a control character (MySQL reads --x, and --'…',
// as two minus signs).
func isSpaceOrControl(c byte) bool { return c <= ' ' || c == 0x7f }
func isDigit(c byte) bool          { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}
