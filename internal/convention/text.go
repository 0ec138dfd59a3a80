package convention

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Text returns s, a free text — a header value, a call's summary, an error
// message, a path — with the secrets found in it replaced by [Redacted]:
//
//   - the user information of a URL ("https://user:pw@host/") and the
//     secrets of its path, query and fragment ([Rules.URL]), and the user
//     information of a URL written in a path ("/r/redis://:pw@h"), also
//     once a server cleaned its "//" to "/" ("/r/redis:/:pw@h", and
//     "redis:/:pw@h" as a text or a word of one);
//   - the value of a secret name written "name=value", "name = value",
//     "name= value", "name : value", "name: 'value'", name:"value" (Go's
//     and protobuf's text forms), "name": value (JSON, and JSON quoted
//     again by %q: \"name\":\"value\", or twice), "Name":[]string{"value"}
//     (%#v of a header), a list given whole ({"creds":["bob","pw"]}), and
//     a pair that names a secret apart from its value
//     ({"name":"DB_PASSWORD","value":"…"}, {Name:DB_PASSWORD Value:…},
//     <entry key="password">…</entry>); Ruby's, PHP's and Perl's pairs
//     ("password => …", {:password=>"…"}, "[password] => …"), Python's
//     b'…' and u'…'; curl's "-u user:password";
//   - the fields of structs and maps printed by fmt, whose strings it does
//     not quote ({User:bob Password:hunter2}, &{Token:abc},
//     map[password:hunter2], a field's value running over spaces to the
//     next field; see [fieldValue]), and a value in brackets given to a
//     secret name (password={bob hunter2});
//   - structs printed with %v, without their fields' names ({bob
//     hunter2}), after a secret name or a login word ("login {bob
//     hunter2}: denied"), or whose values are shaped as passwords (see
//     [Rules.unnamedGroup]);
//   - the value of a secret name written "Name: value", as a header line
//     ("Cookie: sid=…; theme=dark" to the end of the line), YAML or a log
//     writes it, unless it reads as prose ("auth: failed"; see
//     [Rules.lineValue]) — a password, a passphrase, a secret, a PIN is
//     hidden when it is a plain word too ("password: hunter", "secret:
//     swordfish"; "password: too short" stays), a YAML line's to its end;
//     a command line's "--password value"; the arguments of Redis'
//     "AUTH", plain words too ("AUTH swordfish"; "AUTH failed" stays),
//     and the secrets of its other commands (see [Rules.redisArgs]: a
//     hash's field named secret, "HSET k password …", CONFIG SET's
//     requirepass and masterauth, MIGRATE's AUTH2, ACL SETUSER's
//     ">password", MONITOR's "AUTH" "…", go-redis' "auth …: <error>"); a
//     pair written percent-encoded ("password%3Dhunter2", or twice:
//     "password%253Dhunter2"), and a name
//     written so with its ":" before a blank and its value unencoded
//     ("password%3A hunter2", "Authorization%3A%20Bearer <token>");
//   - an OAuth authorization code ("code=…" with a digit, or long; see
//     [Rules.oauthCode]), and the parameters after a URL given unencoded to
//     a form's parameter ("redirect_uri=https://h/cb&client_secret=…");
//   - the password of "user:password@host" written without a scheme, up
//     to the last "@" of the word ("app:pa$$w@rd@tcp(db:3306)/"), or, in a
//     MySQL DSN, to the "@" before its net(addr)/ over white space, "/"
//     and "(" as github.com/go-sql-driver/mysql reads it ("u:pa ss@tcp(h)/db",
//     "u:12 34@tcp(h)/db"; see [textScrub.dsnAt]); of a URL whose password
//     holds "/", "?" or "#" unencoded, or white space
//     ("postgres://u:pa ss@h/db", which libpq reads, "redis://:pa ss@h";
//     see [textScrub.spacedUserInfo]), and a URL's query value over a space when the query
//     goes on after it ("?password=pa ss&sslmode=disable"); Oracle's
//     "user/password@db" ("scott/tiger@orcl", JDBC's
//     "jdbc:oracle:thin:scott/tiger@//h:1521/svc"; not a module's or an
//     image's "path@v1.2.3"; see [oraclePassword]); the properties of a
//     JDBC URL written after ";" ("jdbc:sqlserver://h;password=…"), and the
//     values of ODBC and ADO.NET connection strings, which run over spaces
//     to the ";" ("Password=two words;") and may be written in braces
//     ("Pwd={…}") or in quotes, a quote doubled inside
//     (Password="pa""ss"); Oracle's user/"pass word"@db;
//   - the text of an XML element named secret (<password>…</password>), and
//     a form's user[password]=…;
//   - the credential written after an HTTP authentication scheme that takes
//     a single token, as an Authorization header's value is: "Bearer
//     <token>", "Basic <base64>" (see [authCredential]), in a header map
//     printed by fmt, a curl command or an error message as much as after
//     a secret name ("Authorization=Bearer <token>" hides both words);
//   - when r hides values, every word that looks secret ([SecretValue]),
//     card numbers written in groups ("4111 1111 1111 1111") and random
//     tokens of standard base64, "/" and "+" included (an AWS secret access
//     key).
//
// Names are judged by [Rules.SecretName], which folds Unicode's
// look-alikes of ASCII letters ("ｐａｓｓｗｏｒｄ=…", "pass\u00adword=…");
// the fullwidth and small forms of ":", "=", "," and ";" ("ｔｏｋｅｎ：…",
// "password＝…") separate as those do (see [asciiMarks]), and stay in the
// text returned.
// A number given to a name that counts secret things ("tokens=5",
// "max_tokens=100", "token_count=7"; see [Rules.CountName] and
// [IsCountValue]) is a count, and stays. A text with nothing to hide is
// returned as it is, without allocating; the scan is linear in the length
// of s.
func (r *Rules) Text(s string) string { return r.textIn(s, false, 0) }

// textIn is Text, of a URL's path when inURL is set (see pathText): then a
// URL written in it ("/to/https://u:pw@h/x") has its user information
// hidden and is read on as words are, not as a URL whose path is read
// again, which made a text of n nested URLs cost n scans of it (round 44:
// "p://" repeated to 16 KiB took 0.4 s, 1 MiB hours). depth counts the
// query values s is found in (see param).
func (r *Rules) textIn(s string, inURL bool, depth int) string {
	if r == nil || s == "" || shortPlain(s) {
		return s
	}
	if hasHigh(s) {
		if a, at := asciiMarks(s); at != nil {
			return r.textMarks(s, a, at, inURL, depth)
		}
	}
	t := textScrub{s: s, inURL: inURL, depth: depth}
	r.scan(&t)
	return t.String()
}

// asciiMark returns the ASCII mark that c, a look-alike of it, is read as
// in a text: ":" for the fullwidth and small colons (and the modifier
// letter colon), "=" for the fullwidth and small equals signs, "," for the
// fullwidth and ideographic commas, ";" for the fullwidth and small
// semicolons; 0 for any other character. Each look-alike is 3 bytes long.
func asciiMark(c rune) byte {
	switch c {
	case '\uFF1A', '\uFE55', '\uA789':
		return ':'
	case '\uFF1D', '\uFE66':
		return '='
	case '\uFF0C', '\u3001':
		return ','
	case '\uFF1B', '\uFE54':
		return ';'
	}
	return 0
}

// asciiMarks returns s with the look-alikes of ":", "=", "," and ";" in it
// written as those (see asciiMark), and the indexes in a of the marks it
// wrote; at is nil when s holds none.
func asciiMarks(s string) (a string, at []int) {
	var b []byte
	for i, c := range s {
		if m := asciiMark(c); m != 0 {
			if b == nil {
				b = append(make([]byte, 0, len(s)), s[:i]...)
			}
			at = append(at, len(b))
			b = append(b, m)
		} else if b != nil {
			b = utf8.AppendRune(b, c)
		}
	}
	if b == nil {
		return s, nil
	}
	return string(b), at
}

// textMarks is Text of s, whose look-alike marks a writes in ASCII at the
// indexes at: a is scanned, and what it hides is hidden in s, which keeps
// its own marks.
func (r *Rules) textMarks(s, a string, at []int, inURL bool, depth int) string {
	t := textScrub{s: a, ops: []scrubOp{}, inURL: inURL, depth: depth}
	r.scan(&t)
	if len(t.ops) == 0 {
		return s
	}
	// p in a is p plus 2 bytes for each look-alike (3 bytes, written as
	// 1) before it in s. The replacements come in order: n only grows.
	n := 0
	orig := func(p int) int {
		for n < len(at) && at[n] < p {
			n++
		}
		return p + 2*n
	}
	u := textScrub{s: s}
	for _, op := range t.ops {
		u.replace(orig(op.from), orig(op.to), op.with)
	}
	return u.String()
}

// minSecretWord is the length of the shortest word [SecretValue] may find
// secret; a card number is longer still (13 digits).
const minSecretWord = 6

// shortPlain reports whether s is too short to hold a word that looks
// secret and has no '=', ':' nor '@', which every other rule of Text needs
// (a URL's scheme, "name=value", name:"value", "user:password@host",
// Oracle's "u/p@db"): Text leaves such a text ("http", "1.1", "*/*", a
// short method name) as it is.
func shortPlain(s string) bool {
	if len(s) >= minSecretWord {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '=' || s[i] == ':' || s[i] == '@' {
			return false
		}
	}
	return true
}

// text is Text's scan, of a text found in depth query values.
func (r *Rules) text(s string, depth int) string {
	t := textScrub{s: s, depth: depth}
	r.scan(&t)
	return t.String()
}

// scan finds the secrets of t.s and replaces them in t.
func (r *Rules) scan(t *textScrub) {
	s := t.s
	// Brackets ("{", "[") opened before depthAt and not closed: inside a
	// struct or map fmt printed. Counted only when a field asks (see
	// nested), from where the last count stopped: the scan stays linear.
	depth, depthAt := 0, 0
	nested := func(i int) bool {
		for ; depthAt < i; depthAt++ {
			switch s[depthAt] {
			case '{', '[':
				depth++
			case '}', ']':
				depth = max(depth-1, 0)
			}
		}
		return depth > 0
	}
	pct := strings.IndexByte(s, '%') >= 0
	for i := 0; i < len(s); {
		if !isAtom(s[i]) {
			if s[i] == '{' {
				if e, ok := r.unnamedGroup(s, i); ok {
					t.replace(i+1, e, Redacted) // login {bob hunter2}: denied
					i = e
					continue
				}
			}
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isAtom(s[j]) {
			j++
		}
		atom := s[i:j]
		if t.inURL && strings.HasPrefix(s[j:], "://") && isScheme(atom) {
			// A URL in a URL's path: its user information is hidden whole,
			// as a URL's in a text is ("/r/redis://:pw@h", and an empty
			// one, "/r/redis://@h"), and what follows is read as words,
			// its path not scrubbed again.
			if at := t.spacedUserInfo(j+3, urlEnd(s, j+3), webScheme(atom)); at > 0 {
				// "/r/amqp://guest:pa ss@mq/vh": the password over the
				// space, as in a text (see spacedUserInfo).
				if s[j+3:at] != Redacted {
					t.replace(j+3, at, Redacted)
				}
				i = at + 1
				continue
			}
			i = t.hideNestedUserInfo(j+len("://"), true)
			continue
		}
		if !t.inURL && strings.HasPrefix(s[j:], "://") && isScheme(atom) {
			end := urlEnd(s, j+3)
			// (A query's "?" stays in s[i:end] as end grows.)
			for query := strings.IndexByte(s[i:end], '?') >= 0; query && end < len(s) && s[end] == ' '; {
				// "postgres://h/db?password=pa ss&sslmode=disable":
				// pgx and lib/pq read a query's value over a space.
				w := queryGoesOn(s[end+1:])
				if w < 0 {
					break
				}
				end = urlEnd(s, end+1+w)
			}
			if at := t.spacedUserInfo(j+3, end, webScheme(atom)); at > 0 {
				end = urlEnd(s, at) // "postgres://u:pa ss@h/db": libpq reads the password over the space
			} else if at := t.innerSpacedUserInfo(j+3, end); at > 0 {
				end = urlEnd(s, at) // the same, of a URL in this one's query or path
			}
			if vs := lastValueGoesOn(s, i, end); vs > 0 {
				// "https://h2/?q=Authorization: Bearer <token>": the
				// value a query's last name was given goes on after the
				// space (a "+" decoded, a query value read as a text),
				// read as the text it is.
				if strings.HasSuffix(r.urlString(s[i:end], t.depth), s[vs:end]) {
					if red := r.urlString(s[i:vs], t.depth); red != s[i:vs] {
						t.replace(i, vs, red)
					}
					i = vs
					continue
				}
			}
			if u := s[i:end]; true {
				if red := r.urlString(u, t.depth); red != u {
					t.replace(i, end, red)
				}
			}
			i = end
			continue
		}
		vs, ve, ok := valueAfter(s, i, j)
		if ok && ve > vs && isPairName(atom) {
			// {"name":"DB_PASSWORD","value":"…"}, {Name:DB_PASSWORD
			// Value:…}: a pair that names a secret, and its value.
			if ws, we, ok := r.pairValue(s, vs, ve, nested(i)); ok {
				t.replace(ws, we, Redacted)
				i = we
				continue
			}
		} else if ok && ve < 0 && isPairName(atom) {
			if _, fe := fieldValue(s, vs, nested(i)); fe > vs {
				if ws, we, ok := r.pairValue(s, vs, fe, nested(i)); ok {
					t.replace(ws, we, Redacted)
					i = we
					continue
				}
			}
		}
		if ok && (r.SecretName(pathUnescape(atom)) || r.header(atom) || r.oauthCode(atom, s[vs:max(ve, vs)])) {
			if ve < 0 {
				vs, ve = fieldValue(s, vs, nested(i))
				if cs, ok := r.schemeOnly(s, vs, ve); ok {
					vs = cs // Authorization:[Bearer <token>]: the scheme stays readable, as in a header
				}
			}
			_, ce, cred := authCredential(s, vs, ve)
			if cred = cred && r.schemes; cred {
				ve = ce // "Authorization=Bearer <token>": the scheme and its credential
			}
			if !cred {
				ve = listEnd(s, vs, ve) // {"creds":["bob","hunter2"]}: the list whole
			}
			if v := s[vs:ve]; v != "" && v != Redacted && !isNil(v) && !isPlaceholder(v) && !r.count(atom, v) {
				if !cred && ve < len(s) && s[ve] == ' ' && afterEquals(s, vs) {
					// "password=two words", "password = two words",
					// a connection string's "Password=two words;":
					// the value whole.
					ve = connValueEnd(s, i, ve)
				}
				t.replace(vs, ve, Redacted)
			}
			i = max(ve, j)
			continue
		}
		if strings.HasPrefix(s[j:], ":/") && j+2 < len(s) && s[j+2] != '/' && isScheme(atom) {
			// A URL once a server cleaned its "//" to "/" (Go's ServeMux
			// redirects to the path cleaned), in a path ("/r/redis:/:pw@h")
			// or as a text or a word of one, as a route's parameter or a
			// log writes it ("redis:/:pw@h//r//"): its user information
			// hidden whole; a secret name's value ("/password:/…") was
			// hidden above. An "@" right after the ":/" is the path's
			// ("/npm:/@scope/pkg"), not a URL's.
			i = t.hideNestedUserInfo(j+len(":/"), false)
			continue
		}
		if next := s[min(j, len(s)-1)]; next == ':' || next == ' ' && (atom[0] == '-' || atom[0] == 'A' && j-i == 4 || j+1 < len(s) && s[j+1] == ':') || next == '>' || pct {
			if next, ok := r.spaced(t, s, i, j, pct); ok {
				i = next
				continue
			}
		}
		if q := i > 0 && s[i-1] == '"' && j < len(s) && s[j] == '"'; q && j+1 < len(s) && s[j+1] == ' ' || j < len(s) && s[j] == ' ' {
			// Redis' commands, as a log or MONITOR ("AUTH" "pw") quotes them.
			if kind := redisCommand(atom, q); kind != redisNone {
				e := j
				if q {
					e++
				}
				if next := r.redisArgs(t, s, e, kind); next > e {
					i = next
					continue
				}
			}
		}
		if n := j - i; (n == 5 || n == 6) && j+1 < len(s) && isBlank(s[j]) && r.schemes { // "basic ", "bearer "
			if cs, ce, ok := authCredential(s, i, j); ok {
				t.replace(cs, ce, Redacted) // "Bearer <token>": the scheme stays readable
				i = ce
				continue
			}
		}
		if at := strings.IndexByte(atom, '@'); at >= 0 {
			if at > 0 && i >= 2 && s[i-1] == ':' && isAtom(s[i-2]) && atom[:at] != Redacted {
				t.replace(i, i+at, Redacted) // user:password@host
				i = j
				continue
			}
			at = strings.LastIndexByte(atom, '@')
			if ps, ok := oraclePassword(s, i+at, t.last); ok {
				e := i + at
				if r.values && SecretValue(atom) {
					e = j // "…$1@db.example": the rest reads as an e-mail address, hidden too
				}
				t.replace(ps, e, Redacted) // Oracle's user/password@db
				i = j
				continue
			}
		}
		if r.values {
			if end, ok := cardSpan(s, i); ok {
				t.replace(i, end, Redacted)
				i = end
				continue
			}
			k := j
			for k < len(s) && s[k] == '=' && k-j < 2 { // base64 padding
				k++
			}
			if k > j && k < len(s) && isAtom(s[k]) {
				k = j
			}
			if k == j && j < len(s) && s[j] == '[' && strings.HasSuffix(atom, "…") && strings.HasPrefix(s[j-len("…"):], TruncatedMarker) {
				k -= len("…") // a token cut by a byte cap: what is left of it is judged
			}
			if len(atom) >= minSecretWord && SecretValue(pathUnescape(s[i:k])) {
				t.replace(i, k, Redacted)
				i = k
				continue
			}
			if s[min(j, len(s)-1)] == '/' && k == j && (i == 0 || s[i-1] != '/') {
				// A token of standard base64, whose "/" the scan took
				// for a path's: an AWS secret access key.
				if e := base64End(s, i); e-i >= 20 && !pathLike(s[i:e]) && looksRandom(s[i:e], true) {
					t.replace(i, e, Redacted)
					i = e
					continue
				}
			}
		}
		i = j
	}
}

// isPairName reports whether a name is "name" or "key", in any case: the
// first of a pair that names a value, as a Kubernetes container's
// environment ({"name":"DB_PASSWORD","value":"…"}, {Name:DB_PASSWORD
// Value:…}), a form's fields or a list of tags write it.
func isPairName(name string) bool {
	return len(name) == 4 && strings.EqualFold(name, "name") || len(name) == 3 && strings.EqualFold(name, "key")
}

// pairValue finds the value of a pair whose name, a secret one, is s[vs:ve]
// (see isPairName): the value given to "value" right after it, a "," and
// blanks between ({"name":"password","value":"hunter2"}, {Name:password
// Value:hunter2}). ok is false when the name is not secret, nothing but
// "value" follows, or its value has nothing to hide (nil, a placeholder,
// a count).
func (r *Rules) pairValue(s string, vs, ve int, nested bool) (ws, we int, ok bool) {
	name := s[vs:ve]
	if len(name) > maxRun || !r.SecretName(name) {
		return 0, 0, false
	}
	p := ve
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		p++
	} else if p+1 < len(s) && s[p] == '\\' && s[p+1] == '"' {
		p += 2
	}
	if p < len(s) && s[p] == ',' {
		p++
	}
	for p < len(s) && isBlank(s[p]) {
		p++
	}
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		p++
	} else if p+1 < len(s) && s[p] == '\\' && s[p+1] == '"' {
		p += 2
	}
	if p > ve && p < len(s) && s[p] == '>' {
		// <entry key="password">…</entry>, <property name="password">…:
		// the element's text, closed within maxList bytes.
		e := p + 1
		for e < len(s) && e-p < maxList && s[e] != '<' {
			e++
		}
		if e == p+1 || e >= len(s) || s[e] != '<' || e+1 < len(s) && s[e+1] != '/' || s[p+1:e] == Redacted {
			return 0, 0, false
		}
		return p + 1, e, true
	}
	const value = "value"
	if len(s)-p <= len(value) || !strings.EqualFold(s[p:p+len(value)], value) || isAtom(s[p+len(value)]) {
		return 0, 0, false
	}
	ws, we, ok = valueAfter(s, p, p+len(value))
	if !ok {
		return 0, 0, false
	}
	if we < 0 {
		ws, we = fieldValue(s, ws, nested)
	}
	if v := s[ws:we]; v == "" || v == Redacted || isNil(v) || isPlaceholder(v) || r.count(name, v) {
		return 0, 0, false
	}
	return ws, we, true
}

// spaced is text's scan for a value written apart from its secret name, at
// the word s[i:j], rarer than "name=value": "Name: value" (lineValue), a
// command line's "--password hunter2", Redis' "AUTH hunter2", and a pair
// written percent-encoded ("password%3Dhunter2", when pct says s holds a
// "%"). ok says it replaced what it found, and next is where the scan goes
// on.
func (r *Rules) spaced(t *textScrub, s string, i, j int, pct bool) (next int, ok bool) {
	c := j
	if c+1 < len(s) && s[c] == ' ' && s[c+1] == ':' {
		c++ // "password : hunter2", as French writes a colon
	}
	if c+1 < len(s) && s[c] == ':' && isBlank(s[c+1]) && !isDigit(s[i]) && (r.SecretName(pathUnescape(s[i:j])) || r.header(s[i:j])) {
		if vs, ve, ok := r.lineValue(s, c+2, s[i:j], lineStart(s, i)); ok {
			if s[vs:ve] != Redacted {
				t.replace(vs, ve, Redacted)
			}
			return ve, true
		}
	}
	if j+1 < len(s) && s[j] == ':' && j >= t.noAt {
		if _, at, ok := t.userInfo(j + 1); ok {
			if r.values && j-i >= minSecretWord && SecretValue(pathUnescape(s[i:j])) {
				t.replace(i, j, Redacted) // the user name, a word as any other
			}
			if s[j+1:at] != Redacted {
				t.replace(j+1, at, Redacted)
			}
			return at, true
		}
	}
	if j < len(s) && s[j] == '>' && i > 0 && s[i-1] == '<' && r.SecretName(s[i:j]) {
		// XML: <password>hunter2</password>, the element closed (not
		// prose's "AUTH <password> called…").
		e := j + 1
		for e < len(s) && s[e] != '<' {
			e++
		}
		if rest := s[e:]; len(rest) > j-i+2 && rest[1] == '/' && rest[2:j-i+2] == s[i:j] {
			if v := s[j+1 : e]; v != "" && v != Redacted {
				t.replace(j+1, e, Redacted)
			}
			return e, true
		}
	}
	if s[i] == '-' && j+1 < len(s) && s[j] == ' ' && userFlag(s[i:j]) {
		// curl's "-u bob:hunter2", "--user", "--proxy-user": the password
		// after the user's ":" (not a uid:gid's digits, "-u 1000:1000").
		e := j + 1
		for e < len(s) && !valueDelimAt(s, e) {
			e++
		}
		if c := strings.IndexByte(s[j+1:e], ':'); c > 0 && j+1+c+1 < e && s[j+1+c+1:e] != Redacted && !IsDigits(s[j+1+c+1:e]) {
			t.replace(j+1+c+1, e, Redacted)
			return e, true
		}
	}
	if s[i] == '-' && j+1 < len(s) && s[j] == ' ' && s[j+1] != '-' && secretFlag(r, s[i:j]) {
		e := j + 1
		for e < len(s) && !valueDelimAt(s, e) {
			e++
		}
		if e > j+1 && s[j+1:e] != Redacted {
			t.replace(j+1, e, Redacted) // a command line's "--password hunter2"
		}
		return max(e, j+1), true
	}
	if pct && j+1 < len(s) && isBlank(s[j]) && strings.IndexByte(s[i:j], '%') >= 0 {
		if vs, ve, ok := r.encodedNameValue(s, i, j); ok {
			if s[vs:ve] != Redacted {
				t.replace(vs, ve, Redacted)
			}
			return ve, true
		}
	}
	if pct && strings.IndexByte(s[i:j], '%') >= 0 {
		// "password%3Dhunter2", "token%22%3A%22abc": a text written
		// percent-encoded, read once decoded.
		dec, twice := pathUnescape(s[i:j]), false
		if strings.IndexByte(dec, '%') >= 0 && dec != s[i:j] {
			// "token%253Dabc": encoded twice, read twice decoded.
			if d2 := pathUnescape(dec); d2 != dec && strings.IndexByte(d2, '%') < 0 {
				dec, twice = d2, true
			}
		}
		if dec != s[i:j] && strings.IndexByte(dec, '%') < 0 && !shortPlain(dec) {
			if red := r.text(dec, t.depth); red != dec {
				if twice {
					red = escapeAround(red)
				}
				t.replace(i, j, escapeAround(red))
				return j, true
			}
		}
	}
	if j-i == 4 && j+1 < len(s) && s[j] == ' ' && s[i:j] == "AUTH" {
		if ve := redisAuth(s, j+1); ve > j+1 {
			t.replace(j+1, ve, Redacted) // Redis: AUTH <password>, AUTH <user> <password>
			return ve, true
		}
	}
	return 0, false
}

// encodedNameValue finds the value of a secret name written
// percent-encoded with its ":", the word s[i:j], before the blank at s[j]
// and the value after it, unencoded: "password%3A hunter2" (see
// [Rules.lineValue]), "password%3D hunter2" (a word, as "password=
// hunter2" is read), and an Authorization header's scheme encoded with
// it, "Authorization%3A%20Bearer <token>" (see [Rules.schemeCredential]),
// as a text encoded in part, or a query value holding one, reads.
func (r *Rules) encodedNameValue(s string, i, j int) (vs, ve int, ok bool) {
	dec := pathUnescape(s[i:j])
	if dec == s[i:j] {
		return 0, 0, false
	}
	var scheme string
	if c := strings.LastIndexByte(dec, ':'); c >= 0 && c+1 < len(dec) {
		// "Authorization: Bearer": the scheme after the name's ": ".
		scheme = strings.TrimLeft(dec[c+1:], " \t")
		if scheme == dec[c+1:] || !plainWord(scheme) {
			return 0, 0, false
		}
		dec = dec[:c+1]
	}
	if len(dec) < 2 || dec[len(dec)-1] != ':' && (dec[len(dec)-1] != '=' || scheme != "") {
		return 0, 0, false
	}
	name := dec[strings.LastIndexAny(dec[:len(dec)-1], " \t")+1 : len(dec)-1]
	if name == "" || !r.SecretName(name) && !r.header(name) {
		return 0, 0, false
	}
	if dec[len(dec)-1] == '=' {
		// "password%3D hunter2": the word after the blanks, as
		// "password= hunter2" is read (see valueAfter).
		vs = j + 1
		for vs < len(s) && isBlank(s[vs]) {
			vs++
		}
		ve = vs
		for ve < len(s) && !valueDelimAt(s, ve) && s[ve] != '=' {
			ve++
		}
		if ve == vs || ve < len(s) && s[ve] == '=' || r.count(name, s[vs:ve]) {
			return 0, 0, false
		}
		return vs, ve, true
	}
	if scheme != "" {
		if !r.schemes || !isAuthorization(name) {
			return 0, 0, false
		}
		return r.schemeCredential(s, j)
	}
	return r.lineValue(s, j+1, name, name == dec[:len(dec)-1] && lineStart(s, i))
}

// textScrub builds a scrubbed copy of s, allocating only once something is
// replaced.
type textScrub struct {
	s    string
	out  []byte
	last int // s[:last] is in out
	// noAt: the run of s that ends here, without white space, holds no
	// "@" (see userInfo), so that a run of "a:a:a…" is read once.
	noAt int
	// dsnLine, dsnSig: the end of the line dsnAt searched last, and the
	// "@" it found there (-1 when none); dsnNet: that "@" is followed by
	// a net(addr) or "/" alone, not a word and "/" ("@types/node");
	// dsnMark: the last "=" or quote before that "@" (below where the
	// search began when none).
	dsnLine, dsnSig, dsnMark int
	dsnNet                   bool
	// uiFrom, uiLine, uiAt, uiSep: where spacedUserInfo searched last,
	// the end of that line, and the first "@" and "://" there from
	// uiFrom (uiLine when none), so that each line is searched once.
	uiFrom, uiLine, uiAt, uiSep int
	// colonFrom, colonAt, colonSig: userColon's last search, from, what
	// it found (colonSig when nothing), and its end.
	colonFrom, colonAt, colonSig int
	// ops, when not nil, collects the replacements (see textMarks).
	ops []scrubOp
	// inURL: s is a URL's path (see textIn).
	inURL bool
	// depth: the query values s is found in (see param).
	depth int
}

// scrubOp is a replacement of a textScrub: s[from:to] by with.
type scrubOp struct {
	from, to int
	with     string
}

// userInfo finds the password of "user:password@host" written without a
// scheme, from k (after the ":") to at: the run of characters up to white
// space, whose last "@" ends the password, which may hold any character
// but "/" and white space ("app:pa$$word@tcp(db:3306)/", "u:p@ss@host").
// ok is false when there is none: then noAt remembers where the run ends.
func (t *textScrub) userInfo(k int) (from, at int, ok bool) {
	s := t.s
	at = -1
	e := k
	for ; e < len(s); e++ {
		c := s[e]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' {
			break
		}
		if c == '@' {
			at = e
		}
	}
	if sig := t.dsnAt(k); sig > k && t.dsnPassword(k, sig, at) {
		return k, sig, true // a MySQL DSN's password over white space, "/"…
	}
	if at < 0 {
		t.noAt = e
		return 0, 0, false
	}
	if slash := strings.LastIndexByte(s[k:at], '/'); slash >= 0 {
		t.noAt = k + slash // "h:8080/users/@me": a path; a ":" after its "/" is read again
		return 0, 0, false
	}
	return k, at, at > k
}

// spacedUserInfo returns the "@" that ends a URL's user information
// written with white space in its password ("postgres://u:pa ss@h/db", which
// libpq reads, and drivers that refuse it may echo), given auth, where its
// authority begins, and end, where the URL's first word ends: when that
// word's authority holds a ":" after a user and no "@" (nor a port's
// digits only), the first "@" on the line after end with no "://" before
// it, between a password's last byte and a host's first; else 0. What
// it found on a line is remembered (t.uiLine, t.uiAt, t.uiSep): the
// scan calls it with end growing, and the line is not searched again.
// The user may be empty, as Redis' URLs write it ("redis://:pa ss@h").
// A password that begins with digits reads as a port, and counts only
// when web is false (not an http, https, ws or wss URL: "http://h:8080
// alice@corp.example" stays), one word glued to the "@" follows it and a
// port or a path the host after it ("postgres://u:12 34@h/db"; not
// "redis://:6379 alice@h", see [hostGoesOn]).
func (t *textScrub) spacedUserInfo(auth, end int, web bool) int {
	s := t.s
	if end >= len(s) || !isBlank(s[end]) {
		return 0
	}
	a := auth + strings.IndexAny(s[auth:end]+"/", "/?#")
	c := strings.IndexByte(s[auth:a], ':')
	if c < 0 || strings.IndexByte(s[auth:a], '@') >= 0 {
		return 0
	}
	port := IsDigits(s[auth+c+1 : a])
	if port && web || c == 0 && a == auth+1 {
		return 0
	}
	if end < t.uiFrom || end > t.uiLine {
		t.uiLine = len(s)
		if n := strings.IndexByte(s[end:], '\n'); n >= 0 {
			t.uiLine = end + n
		}
		t.uiAt, t.uiSep = -1, -1
	}
	t.uiFrom = end
	if t.uiAt < end {
		t.uiAt = t.uiLine
		if n := strings.IndexByte(s[end:t.uiLine], '@'); n >= 0 {
			t.uiAt = end + n
		}
	}
	if t.uiSep < end {
		t.uiSep = t.uiLine
		if n := strings.Index(s[end:t.uiLine], "://"); n >= 0 {
			t.uiSep = end + n
		}
	}
	at := t.uiAt
	if at >= t.uiLine || t.uiSep+len("://") <= at || isBlank(s[at-1]) || at+1 == t.uiLine || !isAtom(s[at+1]) && s[at+1] != '[' {
		return 0 // not glued to the password's end and the host
	}
	if port && (a != end || strings.ContainsAny(s[end+1:at], " \t") || !hostGoesOn(s, at+1)) {
		return 0 // "postgres://h:5432 took 3 ms @ 4", "redis://:6379 alice@h"
	}
	return at
}

// lastValueGoesOn returns where the value of the last parameter of the
// query of the URL s[i:end] begins, when the URL ends at a blank and that
// value, unencoded, ends in a name's ":" or holds "user:" before the
// blank ("?q=Authorization: Bearer …", "?q=u:pa ss@tcp(h)/db"): then it
// goes on after the blank, as a decoded query value does; else 0.
func lastValueGoesOn(s string, i, end int) int {
	if end+1 >= len(s) || !isBlank(s[end]) {
		return 0
	}
	q := strings.IndexByte(s[i:end], '?')
	if q < 0 {
		return 0
	}
	vs := i + q + 1 + strings.LastIndexAny(s[i+q+1:end], "=&;") + 1
	if vs == end || s[vs-1] != '=' || strings.Contains(s[vs:end], "://") {
		return 0
	}
	v := s[vs:end]
	if strings.IndexByte(v, '%') >= 0 {
		v = unescape(v) // "?q=password%3A hunter2": the name encoded, the value not
	}
	if strings.IndexByte(v, ':') <= 0 {
		return 0
	}
	return vs
}

// innerSpacedUserInfo is spacedUserInfo of the last URL written in the
// path or query of the URL s[from:end] ("https://h2/?q=postgres://u:pa
// ss@db/x", as a query value holds it once its "+" is decoded), or 0 when
// there is none or it ends at end.
func (t *textScrub) innerSpacedUserInfo(from, end int) int {
	s := t.s
	n := strings.LastIndex(s[from:end], "://")
	if n < 0 {
		return 0
	}
	sep := from + n
	b := sep
	for b > from && (isAlnum(s[b-1]) && s[b-1] < 0x80 || s[b-1] == '+' || s[b-1] == '-' || s[b-1] == '.') {
		b--
	}
	if b == sep || !isScheme(s[b:sep]) {
		return 0
	}
	return t.spacedUserInfo(sep+3, end, webScheme(s[b:sep]))
}

// hostGoesOn reports whether the host that begins at s[h] is followed by a
// port or a path, as a URL's is ("h:6379/0", "h/db", "[::1]:5432"), not by
// white space or the text's end, as an e-mail address's or a "user@host"'s
// is.
func hostGoesOn(s string, h int) bool {
	if h < len(s) && s[h] == '[' {
		e := strings.IndexByte(s[h:], ']')
		if e < 0 {
			return false
		}
		h += e + 1
	}
	for h < len(s) && (isAlnum(s[h]) || s[h] == '.' || s[h] == '-' || s[h] == '_' || s[h] == '%') {
		h++
	}
	return h < len(s) && (s[h] == ':' || s[h] == '/')
}

// webScheme reports whether a URL's scheme is http, https, ws or wss,
// whose "host:port" a log writes often, before white space and an e-mail
// address as much as anything.
func webScheme(scheme string) bool {
	switch strings.ToLower(scheme) {
	case "http", "https", "ws", "wss":
		return true
	}
	return false
}

// queryGoesOn returns where the word that goes on with a URL's query
// begins in s, the text after a space that ends it, or -1: the first word
// that holds "&key=" before any "/", ":" or "?", when the words before it
// on the line hold none of those nor "=" (nor does it before its "&" when
// it is not the first: "ss&sslmode=disable", "ss
// word&sslmode=disable"; not "HTTP/1.1", another URL, nor "took 3 ms
// x=1&y=2").
func queryGoesOn(s string) int {
	w, eq := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&':
			k := i + 1
			for k < len(s) && isAtom(s[k]) && s[k] != '@' {
				k++
			}
			if k > i+1 && k < len(s) && s[k] == '=' && !(eq && w > 0) {
				return w
			}
			return -1
		case c == '/' || c == ':' || c == '?' || c == '\n' || c == '"' || c == '\'':
			return -1
		case c == '=':
			eq = true
		case isBlank(c):
			if eq {
				return -1
			}
			w = i + 1
		}
	}
	return -1
}

// dsnAt returns the "@" that ends the user information of a DSN of
// github.com/go-sql-driver/mysql ([user[:password]@][net[(addr)]]/dbname)
// on the line of s from k: the last "@" there followed by a network (letters
// and digits), an address in parentheses without white space, and the "/"
// before the database — "@tcp(db:3306)/", "@unix(/tmp/s.sock)/", "@/" (not
// "@//", Oracle's) — or
// -1. The driver takes everything before that "@" and after the user's ":"
// as the password: white space, "@", ":", "/", "(" and quotes included.
// Each line is searched once (t.dsnLine).
func (t *textScrub) dsnAt(k int) int {
	s := t.s
	if k < t.dsnLine {
		return t.dsnSig
	}
	end := len(s)
	if n := strings.IndexByte(s[k:], '\n'); n >= 0 {
		end = k + n
	}
	t.dsnLine, t.dsnSig, t.dsnNet = end, -1, false
	for p := k; p < end; p++ {
		n := strings.IndexByte(s[p:end], '@')
		if n < 0 {
			break
		}
		p += n
		if q := dsnTail(s[p+1 : end]); q > 0 {
			t.dsnSig, t.dsnNet = p, q > 1
		}
	}
	if t.dsnSig >= 0 {
		t.dsnMark = k + strings.LastIndexAny(s[k:t.dsnSig], "=\"'`")
	}
	return t.dsnSig
}

// dsnTail reports whether s begins as what follows the "@" of a MySQL DSN:
// net[(addr)]/, its address without white space or parentheses: 0 when it
// does not, 1 for a word before the "/" ("@tcp/db", what a package's
// "@scope/pkg" reads as too), 2 for a net(addr) or no net ("@tcp(h)/db",
// "@/db").
func dsnTail(s string) int {
	q := 0
	for q < len(s) && isAlnum(s[q]) {
		q++
	}
	if q > 0 && q < len(s) && s[q] == '(' {
		r := q + 1
		for r < len(s) && s[r] != ')' && s[r] != '(' && !isBlank(s[r]) {
			r++
		}
		if r >= len(s) || s[r] != ')' {
			return 0
		}
		if q = r + 1; q < len(s) && s[q] == '/' {
			return 2
		}
		return 0
	}
	if q < len(s) && s[q] == '/' && (q+1 == len(s) || s[q+1] != '/') { // not Oracle's "@//host"
		if q == 0 {
			return 2
		}
		return 1
	}
	return 0
}

// dsnPassword reports whether the password of a MySQL DSN whose user's
// ":" is at k-1 runs to sig, its "@" (see dsnAt), rather than to at, the
// "@" of the word after the ":" (-1 when none): unless a later "user:" on
// the line before sig begins the DSN — a ":" after a word and before what
// cannot be a timestamp's or an address' digits or a URL's "/" — after the
// user information at ends ("u:pw@host, v:pw2@tcp(h)/db"), or when k's ":"
// is itself followed by a digit or a "/" ("10:00:00 open u:pa ss@tcp(h)/db").
// A password that holds white space before a ":" and begins with a digit
// ("u:1a b:c@tcp(h)/db") is hidden from that ":" only. Nor is a password
// one that begins with digits followed by the line's end, or by a ":" or
// white space unless digitsPassword finds it one ("u:12 34x@tcp(h)/db"):
// a clock time's or a line number's ("12:30:45 failed installing
// @types/node", "main.go:12: mail alice@example/org").
func (t *textScrub) dsnPassword(k, sig, at int) bool {
	s := t.s
	if isBlank(s[k]) {
		return false // "sql: open …": not a user's ":"
	}
	if isDigit(s[k]) {
		d := k + 1
		for d < len(s) && isDigit(s[d]) {
			d++
		}
		if d == len(s) || s[d] == '\n' || s[d] == '\r' {
			return false
		}
		if (s[d] == ':' || isBlank(s[d])) && !t.digitsPassword(k, d, sig) {
			return false
		}
	}
	p := t.userColon(k+1, sig)
	if p < 0 {
		return true
	}
	// A later "user:" before sig.
	return !(isDigit(s[k]) || s[k] == '/' || at >= 0 && at < p)
}

// digitsPassword reports whether s[k:sig], which begins with the digits
// s[k:d] and white space or a ":" after them, is a MySQL DSN's password
// ("u:12 34x@tcp(h:3306)/db", "u:12:34 x@/db") rather than a clock time's or a line
// number's digits and the words after them ("12:30:45 failed installing
// @types/node", "source=main.go:12 msg=…", "handler:12: connect …"): so
// when the user before k's ":" is a word that is neither digits nor a
// file's name (a "." and letters), the digits are not followed by ":" and
// white space, sig's "@" is glued to the password's end and followed by a
// net(addr) or "/" alone (t.dsnNet), and the password holds no "=" nor
// quote.
func (t *textScrub) digitsPassword(k, d, sig int) bool {
	s := t.s
	if !t.dsnNet || isBlank(s[sig-1]) {
		return false
	}
	u := k - 1
	for u > 0 && isAtom(s[u-1]) && s[u-1] != '@' {
		u--
	}
	user := s[u : k-1]
	if user == "" || IsDigits(user) {
		return false
	}
	if s[d] == ':' && (d+1 == len(s) || isBlank(s[d+1])) {
		return false // "handler:12: connect …": a file's or a function's line number
	}
	if dot := strings.LastIndexByte(user, '.'); dot >= 0 && dot+1 < len(user) && isLetters(user[dot+1:]) {
		return false // "main.go:12"
	}
	return t.dsnMark < d // (dsnAt searched s[k:sig] for them once)
}

// isLetters reports whether s holds ASCII letters only.
func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// userColon returns the first ":" in s[from:sig] after a word and before
// what can begin a password (not white space, a digit or "/"), or -1. The
// scan calls it with from growing: what it searched is not searched again
// (t.colonFrom, t.colonAt), so the scan stays linear.
func (t *textScrub) userColon(from, sig int) int {
	s := t.s
	if from >= t.colonFrom && from <= t.colonAt && t.colonSig == sig {
		if t.colonAt < sig {
			return t.colonAt
		}
		return -1
	}
	p := from
	for ; p < sig-1; p++ {
		if s[p] != ':' || !isAtom(s[p-1]) {
			continue
		}
		if c := s[p+1]; isBlank(c) || isDigit(c) || c == '/' {
			continue
		}
		break
	}
	if p >= sig-1 {
		p = sig
	}
	t.colonFrom, t.colonAt, t.colonSig = from, p, sig
	if p < sig {
		return p
	}
	return -1
}

func (t *textScrub) replace(from, to int, with string) {
	if t.ops != nil {
		t.ops = append(t.ops, scrubOp{from, to, with})
	}
	if t.out == nil {
		t.out = make([]byte, 0, len(t.s)+len(Redacted))
	}
	t.out = append(t.out, t.s[t.last:from]...)
	t.out = append(t.out, with...)
	t.last = to
}

func (t *textScrub) String() string {
	if t.out == nil {
		return t.s
	}
	return string(append(t.out, t.s[t.last:]...))
}

// isAtom reports whether c can be part of a word, a value or a token in a
// text: letters, digits and the characters of base64url, e-mail addresses
// and percent-encoding.
func isAtom(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '.' || c == '~' || c == '+' || c == '%' || c == '@'
}

func isScheme(s string) bool {
	if s == "" || len(s) > 32 || !('a' <= lowerASCII(s[0]) && lowerASCII(s[0]) <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// nestedUserInfo returns the index of the "@" that ends the user
// information of a URL whose authority begins at s[auth] — the last "@"
// before the "/", "?" or "#" that ends the authority, or before the end of
// the URL (see urlEnd) — or -1 when it holds none. The user may be empty
// ("redis://:pw@h"), the password too ("u:@h"), or both be missing ("u@h").
func nestedUserInfo(s string, auth int) int {
	at := -1
	for k := auth; k < len(s); k++ {
		switch s[k] {
		case '/', '?', '#', ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>', ',', ')', '}', '|', '\\':
			return at
		case '@':
			at = k
		}
	}
	return at
}

// hideNestedUserInfo hides whole the user information of a URL written in
// a path whose authority begins at t.s[auth] (see nestedUserInfo), and
// returns where the scan goes on: after its "@", or at auth when it has
// none. An "@" right at auth (an empty user information, "redis://@h") is
// hidden, "redis://[REDACTED]@h", only when empty is set, as [Rules.URL]
// marks a URL's: after "scheme://" it ends a URL's authority, after a
// cleaned "scheme:/" it is the path's own ("/npm:/@scope/pkg"). Either way
// nothing secret stands between auth and that "@".
func (t *textScrub) hideNestedUserInfo(auth int, empty bool) int {
	at := nestedUserInfo(t.s, auth)
	if at < auth || at == auth && !empty {
		return auth
	}
	if u := t.s[auth:at]; u != Redacted && strings.Contains(u, Redacted) {
		// Hidden in part by another rule ("A:/0:0\"@/" gives
		// "A:/0:[REDACTED]@/"): read on as words, as then.
		return auth
	}
	if t.s[auth:at] != Redacted {
		t.replace(auth, at, Redacted)
	}
	return at + 1
}

// urlEnd returns where a URL written in a text from i ends: at white space,
// a quote or a bracket that closes around it. What follows is scanned as text,
// so ending early hides nothing less.
func urlEnd(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>', ',', ')', '}', '|', '\\':
			return i
		}
	}
	return i
}

// valueAfter finds the value given to the name s[i:j]: "name=value",
// "name = value", name:"value", name: 'value', "name": value or
// "name":"value", with the quotes escaped too, as %q writes a JSON text
// (\"name\":\"value\"), and the first string of a list (JSON's
// "name":["value"], %#v's "Name":[]string{"value"}). ok is false when s[j:]
// gives no value; vs and ve bound the value, inside its quotes. For
// Name:value written with no space (see fieldValue), ve is -1: its end is
// found only once the name is known secret.
func valueAfter(s string, i, j int) (vs, ve int, ok bool) {
	if j+1 >= len(s) {
		return 0, 0, false
	}
	if c := s[j]; isBlank(c) && !isBlank(s[j+1]) && s[j+1] != ':' && s[j+1] != '=' || c > '=' && c != '\\' && c != ']' {
		return 0, 0, false // prose, a word alone: the common case
	}
	if s[j] == ']' {
		if s[j+1] != '=' && !strings.HasPrefix(s[j+1:], " =>") || i == 0 || s[i-1] != '[' {
			return 0, 0, false
		}
		j++ // a form's user[password]=…, PHP's print_r: [password] => …
	}
	quotedName := false
	if j < len(s) && (s[j] == '"' || s[j] == '\'') && i > 0 && s[i-1] == s[j] {
		quotedName = true
		j++
	} else if n := escapedQuoteBefore(s, i); n > 0 && escapedQuoteAt(s, j) == n {
		// \"name\", as %q writes JSON; \\\"name\\\", JSON in a JSON
		// string, quoted again.
		quotedName = true
		j += n + 1
	}
	k := j
	for k < len(s) && isBlank(s[k]) && (quotedName || k+1 < len(s) && (s[k+1] == ':' || isBlank(s[k+1]) || s[k+1] == '=')) {
		k++
	}
	if k >= len(s) {
		return 0, 0, false
	}
	sep := s[k]
	switch {
	case sep == '=' && k+1 < len(s) && s[k+1] == '>':
		k++ // "password => x", {:password=>"x"}, "password" => "x": Ruby's, PHP's and Perl's pairs
	case sep == '=' && !quotedName:
		if k+1 < len(s) && s[k+1] == '=' || k != j && (k+1 >= len(s) || !isBlank(s[k+1])) {
			return 0, 0, false // "a == b", "a => b", "a =b"
		}
	case sep == ':':
		if k+1 < len(s) && (s[k+1] == ':' || s[k+1] == '/') {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	k++
	if sep == ':' || k-1 != j { // "name: value", "name = value", or a tab for a space
		for k < len(s) && isBlank(s[k]) {
			k++
		}
	} else if k < len(s) && isBlank(s[k]) && !quotedName {
		// "name= value": the value after blanks, unless it is the next
		// pair ("password= user=bob": an empty password).
		for k < len(s) && isBlank(s[k]) {
			k++
		}
		for e := k; e < len(s) && !valueDelimAt(s, e); e++ {
			if s[e] == '=' {
				return 0, 0, false
			}
		}
	}
	if quotedName && sep == ':' {
		if strings.HasPrefix(s[k:], "[]string{") {
			k += len("[]string{")
		} else if k+1 < len(s) && s[k] == '[' && (s[k+1] == '"' || s[k+1] == '\'' || escapedQuoteAt(s, k+1) > 0) {
			k++
		}
	}
	if k+1 < len(s) && (s[k+1] == '"' || s[k+1] == '\'') && strings.IndexByte("bBuUrRfF", s[k]) >= 0 {
		k++ // Python's b'…', u'…', r'…', f'…'
	}
	if k < len(s) && (s[k] == '"' || s[k] == '\'' || s[k] == '`') {
		q := s[k]
		e := k + 1
		for e < len(s) && (s[e] != q || sep == '=' && e+1 < len(s) && s[e+1] == q && e > k+1) {
			if s[e] == q {
				e++ // a connection string's quote doubled: Password="pa""ss"
			} else if s[e] == '\\' && q != '`' {
				e++
			}
			e++
		}
		return k + 1, min(e, len(s)), true
	}
	if sep == '=' && !quotedName && k < len(s) && (s[k] == '{' || s[k] == '[') {
		if strings.HasPrefix(s[k:], Redacted) {
			return k, k + len(Redacted), true
		}
		return k + 1, braceEnd(s, k), true // password={bob hunter2}, ODBC's Pwd={…}
	}
	if n := escapedQuoteAt(s, k); n > 0 { // \"value\", \\\"value\\\"
		e := strings.Index(s[k+n+1:], escapedQuotes[len(escapedQuotes)-n-1:])
		if e < 0 {
			return k + n + 1, len(s), true
		}
		return k + n + 1, k + n + 1 + e, true
	}
	if sep == ':' && !quotedName {
		if k == j+1 && k < len(s) && s[k] != ' ' && s[k] != '\t' && !isDigit(s[i]) && fieldStart(s, i) {
			return k, -1, true // Name:value, as fmt prints a field: see fieldValue
		}
		return 0, 0, false // prose: "auth: failed"; see lineValue
	}
	e := k
	for e < len(s) && !valueDelimAt(s, e) {
		e++
	}
	return k, e, true
}

// escapedQuotes is the longest escaped quote valueAfter reads: a quote
// after 15 backslashes, JSON quoted four times.
const escapedQuotes = `\\\\\\\\\\\\\\\"`

// escapedQuoteAt returns how many backslashes escape the quote at s[k:]
// (`\"`: 1, `\\\"`: 3), or 0 when s[k:] is no escaped quote.
func escapedQuoteAt(s string, k int) int {
	n := 0
	for k+n < len(s) && s[k+n] == '\\' && n < len(escapedQuotes)-1 {
		n++
	}
	if n == 0 || k+n >= len(s) || s[k+n] != '"' {
		return 0
	}
	return n
}

// escapedQuoteBefore returns how many backslashes escape the quote right
// before s[i], or 0 when none does.
func escapedQuoteBefore(s string, i int) int {
	if i < 2 || s[i-1] != '"' {
		return 0
	}
	n := 0
	for i-2-n >= 0 && s[i-2-n] == '\\' && n < len(escapedQuotes)-1 {
		n++
	}
	return n
}

// listEnd returns where the value of a secret name that is the first
// string of a list, s[vs:ve], ends when the list is given whole: at the
// end of its last string ({"creds":["bob","hunter2"]}, %#v's
// []string{"a", "b"}, and quoted again by %q), or ve.
func listEnd(s string, vs, ve int) int {
	if vs < 2 || ve >= len(s) {
		return ve
	}
	open, closing := vs-2, s[vs-1:vs]
	if n := escapedQuoteBefore(s, vs); n > 0 {
		open, closing = vs-n-2, s[vs-n-1:vs]
	} else if closing != `"` && closing != "'" {
		return ve
	}
	if open < 0 || s[open] != '[' && s[open] != '{' || !strings.HasPrefix(s[ve:], closing) {
		return ve
	}
	// A list closed within maxList bytes: a search unbounded would read
	// the rest of s for each list left open ("password":["a", repeated).
	e := closeBracket(s[:min(len(s), open+maxList)], open)
	if e >= len(s) || e >= open+maxList || e-len(closing) < ve || s[e-len(closing):e] != closing {
		return ve
	}
	return e - len(closing)
}

// maxList bounds the bytes of a list listEnd hides whole.
const maxList = 1024

// fieldStart reports whether a field ("Name:value") may start at s[i]: at
// the start of s, or after what fmt writes before a field (a bracket, a
// space) or a log before a pair. A path's "/v1/tokens:revoke" (a custom
// method, as Google's APIs name them) is no field.
func fieldStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch s[i-1] {
	case ' ', '\t', '\n', '{', '[', '(', ',', ';', '|':
		return true
	}
	return false
}

// fieldValue bounds the value of "Name:value", written with no space as fmt
// prints a struct's fields with %+v ({User:bob Password:hunter2},
// &{Token:abc}) and a map's entries with %v (map[password:hunter2]), from
// k, where it starts. A value that opens a bracket is what the bracket
// holds, up to the one that closes it (Authorization:[Bearer …],
// Auth:{User:bob Pass:x}). fmt quotes no string, so inside brackets
// (nested) a value runs over spaces, up to the next field (" Name:") or the
// bracket that closes the struct; elsewhere it is one word, as valueAfter
// reads "name=value".
func fieldValue(s string, k int, nested bool) (vs, ve int) {
	if strings.HasPrefix(s[k:], Redacted) {
		return k, k + len(Redacted) // hidden before: the marker is no list
	}
	if c := s[k]; c == '[' || c == '{' {
		return k + 1, closeBracket(s, k)
	}
	e := k
	if !nested {
		for e < len(s) && !valueDelimAt(s, e) {
			e++
		}
		return k, e
	}
	depth := 0
	for ; e < len(s); e++ {
		switch s[e] {
		case cutMark[0]:
			if strings.HasPrefix(s[e:], TruncatedMarker) {
				return k, e // cut by a byte cap: the note stays
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return k, e
			}
			depth--
		case '\n', '\r':
			return k, e
		case ' ':
			if depth == 0 && fieldAt(s, e+1) {
				return k, e
			}
		}
	}
	return k, e
}

// braceEnd returns where a value written in a bracket from s[k] ends: at
// the bracket that closes it (closeBracket: password={bob hunter2}), or, in
// a connection string (ODBC, SQL Server), at the "}" followed by ";" or
// the end, as such a value doubles a "}" it holds: Pwd={pa}}ss;w};.
func braceEnd(s string, k int) int {
	e := closeBracket(s, k)
	if s[k] != '{' || e+1 >= len(s) || s[e+1] != '}' || strings.IndexByte(s[k+1:e], '{') >= 0 {
		return e
	}
	for c := e; c < len(s); c++ {
		switch {
		case s[c] != '}':
		case c+1 < len(s) && s[c+1] == '}':
			c++ // doubled: a "}" of the value
		case c+1 == len(s) || s[c+1] == ';':
			return c
		default:
			return e
		}
	}
	return e
}

// maxConnValue bounds the bytes connValueEnd reads past a value's first
// word: the scan stays linear.
const maxConnValue = 128

// connValueEnd returns where the value of a secret name written
// "name=value" without quotes ends, given ve, the end of its first word,
// followed by a space. In a connection string (ODBC, ADO.NET: "Server=h;
// Password=two words;Encrypt=true") a value runs over spaces to the next
// ";": so it does here when the name follows a ";", or the ";" that ends
// the words is followed by the next "Key=". Otherwise the value runs over
// spaces to the end of its clause (see clauseValueEnd): a secret name's
// value is hidden whole ("password=two words"), not its first word only.
func connValueEnd(s string, name, ve int) int {
	e := ve
	for e < len(s) && e-ve < maxConnValue {
		c := s[e]
		if c == ';' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '`' || c == '=' || c == '&' {
			break
		}
		e++
	}
	afterSemi := name > 0 && s[name-1] == ';'
	switch {
	case e == len(s) && afterSemi:
	case e < len(s) && s[e] == ';' && (afterSemi || nextKey(s, e+1)):
	default:
		return clauseValueEnd(s, name, ve)
	}
	for e > ve && s[e-1] == ' ' {
		e--
	}
	return e
}

// clauseValueEnd returns where the value of a secret name written
// "name=value" without quotes, outside a connection string, ends, given
// ve, the end of its first word, followed by a space: the value runs over
// spaces to the end of its clause — a ",", ";", "&", "|", a sentence's
// "." (before a space or at the end), a quote, a bracket that closes, a
// line break or the end of s — or to the next word written "key=" or
// "key:" ("password=two words user=bob"); a clause longer than
// maxConnValue bytes is hidden to its last word within them. The value of
// a name in a query string (after "?" or "&"), where a space ends the URL
// ("GET /cb?token=abc HTTP/1.1"), stays one word.
func clauseValueEnd(s string, name, ve int) int {
	if name > 0 && (s[name-1] == '?' || s[name-1] == '&') {
		return ve
	}
	e := ve
	for e < len(s) && e-ve < maxConnValue {
		c := s[e]
		if c == ',' || c == ';' || c == '&' || c == '|' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '`' ||
			c == ')' || c == ']' || c == '}' || c == '>' || c == '=' || c == ':' ||
			c == '.' && (e+1 == len(s) || s[e+1] == ' ') {
			break
		}
		e++
	}
	if e < len(s) && e-ve >= maxConnValue {
		for e > ve && s[e-1] != ' ' {
			e-- // the last word within the bound
		}
	}
	if e < len(s) && (s[e] == '=' || s[e] == ':') {
		// The next pair's key: the value ends before its word.
		for e > ve && s[e-1] != ' ' {
			e--
		}
	}
	for e > ve && (s[e-1] == ' ' || s[e-1] == '\t') {
		e--
	}
	return e
}

// nextKey reports whether "Key=" starts at s[k], after spaces, or s ends
// there: what follows a connection string's ";".
func nextKey(s string, k int) bool {
	for k < len(s) && s[k] == ' ' {
		k++
	}
	e := k
	for e < len(s) && e-k < maxRun && (isAtom(s[e]) || s[e] == ' ' && e > k) {
		e++
	}
	return k == len(s) || e > k && e < len(s) && s[e] == '='
}

// oraclePassword finds the password of Oracle's "user/password@db" (a
// connect string as sqlplus, godror and JDBC's thin driver take it:
// "scott/tiger@orcl", "jdbc:oracle:thin:scott/tiger@//h:1521/svc"), the
// "@" at s[at]: it returns where the password starts, found by reading
// back to a "/" (at most 64 bytes), before which the user is an
// identifier that starts a word (at the start of s, after white space, a
// quote, "=", "(", "," or ":"); not a path's segment. What follows the
// "@" must name a database — not a version, a branch or a digest, as a
// module's, an action's or an image's "name/path@v1.2.3", "@main" or
// "@sha256:…" do — and the password must start at or after last, what the
// scan already wrote.
func oraclePassword(s string, at, last int) (ps int, ok bool) {
	if at+1 >= len(s) {
		return 0, false
	}
	slash := at - 1
	if slash > 0 && s[slash] == '"' {
		// A password quoted, as one holding white space or signs
		// must be: scott/"ti ger"@orcl.
		if q := strings.LastIndexByte(s[max(0, at-130):at-1], '"'); q >= 0 {
			slash = max(0, at-130) + q - 1
		}
	}
	for ; slash >= 0 && at-slash <= 64 && s[slash] != '/'; slash-- {
		c := s[slash]
		switch c {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', '@', '<', '>', ',', '(', ')', '[', ']', '{', '}', '|', '\\':
			// No password here: what ends a word, or a URL (see
			// urlEnd), or the marker.
			return 0, false
		}
	}
	if slash < 1 || s[slash] != '/' || slash+1 == at || slash+1 < last || strings.Contains(s[slash+1:at], Redacted) {
		return 0, false // hidden already, whole or in part ("u/a:b@h" by the rule of "user:password@host")
	}
	u := slash
	for u > 0 && slash-u < 32 && (isAlnum(s[u-1]) && s[u-1] < 0x80 || s[u-1] == '_' || s[u-1] == '$' || s[u-1] == '#') {
		u--
	}
	if u == slash || !('a' <= lowerASCII(s[u]) && lowerASCII(s[u]) <= 'z') {
		return 0, false
	}
	if u > 0 {
		switch s[u-1] {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', '=', '(', ',', ':':
		default:
			return 0, false
		}
	}
	if !dbAfter(s[at+1:]) {
		return 0, false
	}
	return slash + 1, true
}

// dbAfter reports whether h, what follows the "@" of "user/password@",
// may name an Oracle database: a TNS alias, a host (and port and
// service), "//host…" (Easy Connect) or "(DESCRIPTION=…)" — not a version
// ("v1.2.3", "1.2"), a digest ("sha256:…"), a branch ("main") nor an
// image's scale ("logo@2x.png").
func dbAfter(h string) bool {
	e := 0
	for e < len(h) && !valueDelim(h[e]) && h[e] != '/' && h[e] != ':' {
		e++
	}
	w := h[:e]
	switch {
	case strings.HasPrefix(h, "//") || h[0] == '(':
		return true
	case w == "" || !isAlnum(w[0]):
		return false
	case strings.EqualFold(w, "main") || strings.EqualFold(w, "master") || strings.EqualFold(w, "latest") ||
		strings.EqualFold(w, "head") || e < len(h) && h[e] == ':' && strings.HasPrefix(strings.ToLower(w), "sha"):
		return false
	}
	v := w
	if v[0] == 'v' || v[0] == 'V' {
		v = v[1:]
	}
	if v == "" || !isDigit(v[0]) {
		return true
	}
	n, dots := 0, 0
	for n < len(v) && (isDigit(v[n]) || v[n] == '.') {
		if v[n] == '.' {
			dots++
		}
		n++
	}
	if n < len(v) && (v[n] == 'x' || v[n] == 'X') {
		return false // logo@2x.png
	}
	return dots == 3 // an IPv4 address; "1.2.3", "20" and "v4" are versions
}

// maxGroup bounds the bytes of a struct unnamedGroup reads.
const maxGroup = 256

// unnamedGroup reports whether the struct fmt printed from s[i] ("{"),
// with %v, which writes its fields' values without their names ({bob
// hunter2}, &{bob hunter2 admin}, {bob {hunter2 x}}), holds a credential,
// and returns the index of its "}". The names gone, a value can be tied to
// a secret only by where the struct is; it is hidden, nested structs and
// all, when
//
//   - a word before it (up to 48 bytes back, to a line break or another
//     bracket; see credentialBefore) is a secret name: "password={bob
//     hunter2}", "invalid credentials: {bob hunter2}";
//   - or says a login ([loginWord]), unless the struct reads as a status,
//     its first value a number: "login {bob {hunter2 x}}: denied", "auth
//     failed for &{bob hunter2 admin}", not "login {200 OK}";
//   - or a value after the first is shaped as a password is: letters
//     mixed with digits and with signs such as ! # $ % & * ? @ ("{admin
//     P@ssw0rd!}"), which ordinary values are not.
//
// Ordinary values stay, alone as much as after other words: numbers,
// words, statuses, ids, hosts ({200 OK}, {1 2 3}, {node1 Ready}, {web
// server01}, {bob admin}) — and so does a password of letters and digits
// ({bob hunter2}) that nothing ties to a secret, as its shape is a host's.
// A struct with named fields ({User:bob …}, found by its ":"), holding
// quotes or "=", longer than maxGroup or over a line break is not judged
// here; the scan reads what it holds as any text. Each call reads up to
// maxGroup bytes, so the scan stays linear.
func (r *Rules) unnamedGroup(s string, i int) (end int, ok bool) {
	e := i + 1
	depth := 0
	for ; e < len(s) && (s[e] != '}' || depth > 0); e++ {
		switch s[e] {
		case '{':
			depth++
		case '}':
			depth--
		case ':', '"', '\'', '`', '=', '\n', '\r':
			return 0, false
		}
		if e-i >= maxGroup {
			return 0, false
		}
	}
	if e == len(s) {
		return 0, false
	}
	if strings.Contains(s[i+1:e], Redacted) {
		return 0, false // judged already, or a word in it hidden: read again the same
	}
	n := 0
	strong, plain, status := false, true, false
	for k := i + 1; k < e; {
		for k < e && isGroupMark(s, k) {
			k++
		}
		ws := k
		for k < e && !isGroupMark(s, k) {
			k++
		}
		if k == ws {
			break
		}
		w := s[ws:k]
		if plain && !IsDigits(w) {
			plain = false
		}
		if n++; n == 1 {
			status = IsDigits(w)
		} else if passwordShape(w) == 2 {
			strong = true
		}
	}
	switch {
	case n == 0:
		return 0, false // {}, { }
	case strong:
		return e, true
	case plain:
		return 0, false // {1 2 3}
	}
	switch r.credentialBefore(s, i) {
	case secretBefore:
		return e, true
	case loginBefore:
		return e, !status // login {bob hunter2}, not login {200 OK}
	}
	return 0, false
}

// isGroupMark reports whether s[k] separates the values of a struct or a
// slice fmt printed with %v: a space, a bracket, the "&" of a pointer's
// "&{".
func isGroupMark(s string, k int) bool {
	switch s[k] {
	case ' ', '[', ']', '{', '}':
		return true
	case '&':
		return k+1 < len(s) && s[k+1] == '{'
	}
	return false
}

// passwordShape tells how much w, a value of a struct, is shaped as a
// typed password: 2 when it mixes letters, digits and signs (P@ssw0rd!),
// 1 when letters and digits (hunter2), 0 otherwise — a number, a word, a
// hexadecimal id, a path, a host, a version (not 6 to 64 bytes of letters,
// digits and signs).
func passwordShape(w string) int {
	if len(w) < 6 || len(w) > 64 {
		return 0
	}
	letters, digits, signs, hex := 0, 0, 0, true
	for k := 0; k < len(w); k++ {
		switch c := w[k]; {
		case isDigit(c):
			digits++
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			letters++
			if !('a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				hex = false
			}
		case strings.IndexByte("!#$%&*?@~^+", c) >= 0:
			signs++
		default:
			return 0
		}
	}
	switch {
	case letters > 0 && digits > 0 && signs > 0:
		return 2
	case letters > 0 && digits > 0 && signs == 0 && !hex:
		return 1
	}
	return 0
}

// What credentialBefore found before a struct.
const (
	nothingBefore = iota
	loginBefore   // a login word
	secretBefore  // a secret name
)

// credentialBefore tells whether a word before s[i] (up to 48 bytes back,
// to a line break or a bracket) is a secret name (secretBefore) or a login
// word (loginBefore); a secret name wins.
func (r *Rules) credentialBefore(s string, i int) int {
	k := i
	for k > 0 && i-k < 48 {
		c := s[k-1]
		if c == '\n' || c == '\r' || c == '{' || c == '}' || c == '[' || c == ']' {
			break
		}
		k--
	}
	found := nothingBefore
	for j := k; j < i; {
		ws, we := nextWord(s[:i], j)
		if ws == we {
			break
		}
		// The whole atom around the word: "client_credentials", "X-Auth".
		for ws > k && (isAtom(s[ws-1]) && s[ws-1] != '.') {
			ws--
		}
		for we < i && (isAtom(s[we]) && s[we] != '.') {
			we++
		}
		if w := s[ws:we]; r.SecretName(w) {
			return secretBefore
		} else if loginWord(w) {
			found = loginBefore
		}
		j = we
	}
	return found
}

// loginWord reports whether w says a login: login, logon, signin,
// authenticate, authentication, authn… in any case.
func loginWord(w string) bool {
	var buf [16]byte
	if len(w) < 5 || len(w) > len(buf) {
		return false
	}
	for k := 0; k < len(w); k++ {
		buf[k] = lowerASCII(w[k])
	}
	switch string(buf[:len(w)]) {
	case "login", "logon", "signin", "signon", "authn", "authenticate", "authenticated", "authenticating",
		"authentication", "credentials", "creds":
		return true
	}
	return false
}

// secretFlag reports whether atom is a command line's flag ("--password",
// "-api-key") whose name is secret, and which takes its value as the next
// argument: not one that says where to read it from ("--password-stdin",
// "--token-file").
func secretFlag(r *Rules, atom string) bool {
	name := strings.TrimLeft(atom, "-")
	if len(name) < 2 || len(atom)-len(name) > 2 || !r.SecretName(name) {
		return false
	}
	for _, suffix := range [...]string{"-stdin", "-file", "-env", "-path", "-cmd", "-command"} {
		if len(name) > len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix) {
			return false
		}
	}
	return true
}

// userFlag reports whether a command line's flag takes "user:password", as
// curl's -u, --user, -U and --proxy-user do.
func userFlag(f string) bool {
	switch f {
	case "-u", "--user", "-U", "--proxy-user":
		return true
	}
	return false
}

// maxBase64 bounds the bytes base64End reads: keys written in base64 are
// shorter, and the scan stays linear.
const maxBase64 = 128

// base64End returns where a run of standard base64 ("A-Za-z0-9+/", "="
// padding) from s[i] ends, read up to maxBase64 bytes.
func base64End(s string, i int) int {
	e := i
	for e < len(s) && e-i < maxBase64 && (isAlnum(s[e]) && s[e] < 0x80 || s[e] == '+' || s[e] == '/') {
		e++
	}
	for n := 0; n < 2 && e < len(s) && s[e] == '='; n++ {
		e++
	}
	if e < len(s) && (isAtom(s[e]) || s[e] == '/' || s[e] == '=') {
		return i // longer than a key, or not base64 at all
	}
	return e
}

// pathLike reports whether v, a run of base64, reads as a path rather than
// a key: more than three "/", or a segment that is a word
// ("api/v1/users/12345"). A key's "/" fall at random, a few in 40
// characters, between segments of mixed letters and digits.
func pathLike(v string) bool {
	n := 0
	for seg := range strings.SplitSeq(v, "/") {
		if n++; n > 4 || len(seg) >= 3 && plainWord(seg) {
			return true
		}
	}
	return false
}

// oauthCode reports whether v, given to name, is an OAuth 2.0
// authorization code ("code=SplxlOBe…", RFC 6749 4.1.2), which trades for
// tokens: "code" hides values of six characters or more that hold a digit,
// or of sixteen or more, when r hides tokens, so that status and country
// codes and names ("code=404", "code=FR", "code=NotFound") stay readable.
func (r *Rules) oauthCode(name, v string) bool {
	if !r.oauth || !isCode(name) || len(v) < 6 || v == Redacted {
		return false
	}
	return len(v) >= 16 || strings.ContainsAny(v, "0123456789")
}

// isCode reports whether name is "code", in any case.
func isCode(name string) bool {
	return len(name) == 4 && name[0]|0x20 == 'c' && strings.EqualFold(name, "code")
}

// schemeOnly reports whether a field's value s[vs:ve] is an authentication
// scheme and its credential ("Bearer <token>", or "Bearer [REDACTED]" once
// hidden), and where the credential starts.
func (r *Rules) schemeOnly(s string, vs, ve int) (cs int, ok bool) {
	if !r.schemes {
		return 0, false
	}
	w := vs
	for w < ve && isAtom(s[w]) {
		w++
	}
	if ve-w == len(Redacted)+1 && isBlank(s[w]) && s[w+1:ve] == Redacted {
		return w + 1, strings.EqualFold(s[vs:w], "bearer") || strings.EqualFold(s[vs:w], "basic")
	}
	if cs, ce, ok := authCredential(s, vs, w); ok && ce == ve {
		return cs, true
	}
	return 0, false
}

// closeBracket returns the index of the bracket that closes the one at
// s[k], or len(s) when none does.
func closeBracket(s string, k int) int {
	depth := 0
	for e := k; e < len(s); e++ {
		switch s[e] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return e
			}
		}
	}
	return len(s)
}

// fieldAt reports whether a field of a struct or map fmt printed, "Name:",
// starts at s[i].
func fieldAt(s string, i int) bool {
	j := i
	for j < len(s) && isAtom(s[j]) {
		j++
	}
	return j > i && j < len(s) && s[j] == ':'
}

// lineValue bounds the value of a secret name written "Name: value" with no
// quotes, from k: a header line quoted in a text ("Set-Cookie: sid=…;
// Path=/", "X-Api-Key: …"), YAML, a log's "password: hunter2". Prose is
// written the same way ("auth: failed", "invalid token: expired", "cert:
// x509: …"), so the value is taken only when its first word is no plain
// word, short number (a status) nor the prefix of a wrapped error — except
// after a name whose value people choose and type (see typedSecret:
// "password: hunter", "secret: swordfish", "cvv: 123"), where only a word
// of prose ([proseWord]: "password: too short", "secret: not found")
// leaves it. Then a header's value (its name holds a "-", or its first
// word a "=", as cookies do), and a typed secret's at the start of a line
// (YAML's "password: correct horse battery staple"; lineStart), run to the
// end of the line or of the quote around it, and another name's is one
// word. After "Authorization: " (or "Proxy-Authorization: "), a scheme's
// credential is hidden whatever the scheme ("token <credential>", "Digest
// …" aside), the scheme kept.
func (r *Rules) lineValue(s string, k int, name string, atLineStart bool) (vs, ve int, ok bool) {
	for k < len(s) && isBlank(s[k]) {
		k++
	}
	if k < len(s) && s[k] == '{' {
		if e := closeBracket(s, k); e > k+1 && s[k+1:e] != Redacted {
			return k + 1, e, true // password: {bob hunter2}
		}
		return 0, 0, false
	}
	e := k
	for e < len(s) && !valueDelimAt(s, e) {
		e++
	}
	first := s[k:e]
	typed := typedSecret(name)
	switch {
	case first == "" || first[len(first)-1] == ':' || !typed && len(first) <= 3 && IsDigits(first):
		return 0, 0, false
	case first == Redacted:
		return k, e, true
	case plainWord(first):
		if r.schemes && isAuthorization(name) {
			if cs, ce, ok := r.schemeCredential(s, e); ok {
				return cs, ce, true
			}
		}
		if !typed || proseWord(first) {
			return 0, 0, false
		}
	}
	// An Authorization header's value that does not start with a plain
	// word ("SharedKey account:<signature>") runs to the end of the line,
	// as another header's does.
	authValue := r.schemes && isAuthorization(name)
	if strings.IndexByte(name, '-') >= 0 || strings.IndexByte(first, '=') >= 0 || typed && atLineStart || authValue {
		e = lineEnd(s, e)
	}
	return k, e, true
}

// schemeCredential returns the bounds of the credential that follows an
// Authorization header's scheme, a plain word ending at s[e], after blanks
// (a tab too): a token68 run, and what follows it up to white space ("AWS
// <key id>:<signature>"); ok is false when there is none or it is prose.
func (r *Rules) schemeCredential(s string, e int) (cs, ce int, ok bool) {
	if e+1 >= len(s) || !isBlank(s[e]) || !r.SecretName("Authorization") {
		return 0, 0, false
	}
	cs = e + 1
	for cs < len(s) && isBlank(s[cs]) {
		cs++
	}
	ce = cs
	for ce < len(s) && isToken68(s[ce]) {
		ce++
	}
	for ce < len(s) && s[ce] == '=' {
		ce++
	}
	if ce > cs {
		for ce < len(s) && !isBlank(s[ce]) && s[ce] != '\n' && s[ce] != '\r' && s[ce] != '"' && s[ce] != '\'' && s[ce] != '`' {
			ce++
		}
	}
	// A credential of letters alone ("Bearer abcdefghijk") too: after
	// the header's name, only prose ("Bearer token expired") is not one.
	return cs, ce, ce > cs && !proseWord(s[cs:ce])
}

// lineEnd returns the end of a header's value that runs on from e: the end
// of the line, or of the quote around it (a line break escaped by %q
// too), white space at its end left out.
func lineEnd(s string, e int) int {
	k := e
	for e < len(s) && s[e] != '\n' && s[e] != '\r' && s[e] != '"' && s[e] != '\'' && s[e] != '`' &&
		(s[e] != '\\' || e+1 < len(s) && s[e+1] != 'n' && s[e+1] != 'r' && s[e+1] != '"') {
		e++
	}
	for e > k && (s[e-1] == ' ' || s[e-1] == '\t') {
		e--
	}
	return e
}

// lineStart reports whether the name at s[i] starts a line: at the start
// of s, or after a line break (written, or escaped as "\n" by %q), with
// only the indentation of YAML ("  ", "- ") between.
func lineStart(s string, i int) bool {
	if i > 0 && s[i-1] == '\\' {
		return true // the name's first letter is the "n" of an escaped "\n": "\npassword: …"
	}
	for k := i - 1; k >= 0 && i-k <= 64; k-- {
		switch s[k] {
		case ' ', '\t', '-':
			continue
		case '\n', '\r':
			return true
		case 'n', 'r':
			return k > 0 && s[k-1] == '\\'
		}
		return false
	}
	return i == 0 || i <= 64 && strings.TrimLeft(s[:i], " \t-") == ""
}

// typedSecret reports whether a secret name ends with a word whose values
// people choose and type, so that a plain word is as likely a value as
// prose: password, passwd, pwd, pw, pass, passphrase, passcode, secret,
// pin, cvv, cvc, otp ("db_password", "ClientSecret", "X-Pass"). "token",
// "auth" or "cert" are not: their values are no words, and the words after
// them ("token: expired", "auth: failed") are prose.
func typedSecret(name string) bool {
	if hasHigh(name) {
		var buf [128]byte
		name = foldName(name, buf[:0])
	}
	var last string
	for i := 0; ; {
		s, e := nextWord(name, i)
		if s == e {
			break
		}
		last, i = name[s:e], e
	}
	if len(last) < 2 || len(last) > len("passphrase") {
		return false
	}
	var buf [len("passphrase")]byte
	for i := 0; i < len(last); i++ {
		buf[i] = lowerASCII(last[i])
	}
	w := string(buf[:len(last)])
	for _, typed := range [...]string{"password", "passwd", "pwd", "pw", "pass", "passphrase", "passcode", "secret", "pin", "cvv", "cvc", "otp"} {
		// A word that ends with one: "npassword" is the "\npassword" of
		// a text %q escaped, "dbpassword" a name run together.
		if strings.HasSuffix(w, typed) {
			return true
		}
	}
	return false
}

// proseWord reports whether w, a plain word (see plainWord), is one that
// prose and status messages write after a secret name or Redis' AUTH, in
// any case: "password: too short", "secret: not found", "AUTH failed",
// "Basic AUTH required". Any other plain word there is taken for a
// password ("password: hunter", "AUTH swordfish").
func proseWord(w string) bool {
	var buf [16]byte
	if len(w) > len(buf) {
		return false
	}
	for i := 0; i < len(w); i++ {
		buf[i] = lowerASCII(w[i])
	}
	switch string(buf[:len(w)]) {
	case "a", "an", "the", "and", "or", "not", "no", "none", "nil", "null", "is", "are", "was", "were", "be",
		"been", "has", "have", "had", "does", "do", "did", "will", "would", "must", "should", "can", "cannot",
		"could", "may", "too", "for", "of", "to", "from", "with", "without", "in", "on", "at", "by", "via",
		"using", "ok", "okay", "yes", "true", "false", "error", "errors", "err", "fail", "fails", "failed",
		"failure", "invalid", "valid", "incorrect", "wrong", "bad", "expired", "expires", "required",
		"requires", "missing", "empty", "blank", "unset", "set", "mismatch", "mismatched", "denied", "rejected",
		"refused", "unknown", "changed", "updated", "reset", "rotated", "removed", "deleted", "created",
		"saved", "stored", "hidden", "redacted", "masked", "omitted", "ignored", "provided", "given",
		"supplied", "needed", "accepted", "verified", "matched", "weak", "short", "long", "length", "hashed",
		"encrypted", "disabled", "enabled", "locked", "unavailable", "authentication", "authorization",
		"called", "command", "cmd", "token", "header", "method", "mechanism", "type", "scheme", "request",
		"response", "please", "enter", "see", "use", "check", "wrongpass", "noauth", "noperm", "configured",
		"forbidden", "unauthorized", "denies", "timeout", "timed", "contains", "exceeds", "exceeded",
		"only", "cannotbeempty", "notset":
		return true
	}
	return false
}

// isAuthorization reports whether a header's name is Authorization or
// Proxy-Authorization, in any case.
func isAuthorization(name string) bool {
	const a = "authorization"
	return len(name) >= len(a) && strings.EqualFold(name[len(name)-len(a):], a) &&
		(len(name) == len(a) || strings.EqualFold(name, "proxy-"+a))
}

// redisAuth returns where the arguments of a Redis AUTH command written
// from k end ("AUTH <password>", "AUTH <user> <password>", as a command
// is quoted in an error or a log), or k when what follows reads as prose:
// a word of prose ([proseWord]: "Basic AUTH required", "AUTH failed")
// ends the arguments; any other word, a plain one too ("AUTH swordfish",
// "AUTH bob hunter"), is one.
func redisAuth(s string, k int) int {
	end := k
	for n, w := 0, k; n < 2 && w < len(s); n++ {
		e := w
		for e < len(s) && !valueDelimAt(s, e) {
			e++
		}
		if e == w {
			break
		}
		word := s[w:e]
		colon := word[len(word)-1] == ':' && len(word) > 1 // "AUTH bob hunter: WRONGPASS"
		if colon {
			word, e = word[:len(word)-1], e-1
		}
		if plainWord(word) && proseWord(word) {
			break
		}
		end = e
		if colon {
			break
		}
		if e >= len(s) || s[e] != ' ' {
			break
		}
		w = e + 1
	}
	return end
}

// count reports whether v, the value of the secret name, is a count (see
// [Rules.CountName] and [IsCountValue]): "tokens=5", "max_tokens=100",
// "sessions=3", "token_count=12".
func (r *Rules) count(name, v string) bool { return IsCountValue(v) && r.CountName(name) }

// maxCountDigits bounds the digits of a count: a billion tokens is a
// count, a card number (13 digits or more) is not.
const maxCountDigits = 9

// IsCountValue reports whether v is written as a count is: a number of one
// to nine digits, without a leading zero ("0", "42", "128000"; not "0042",
// which is a code, nor "4111111111111111", a card number).
func IsCountValue(v string) bool {
	return len(v) <= maxCountDigits && IsDigits(v) && (v[0] != '0' || len(v) == 1)
}

// CountName reports whether a name counts secret things rather than naming
// one: its last word is the plural of a secret word ("tokens", "api.tokens",
// "max_tokens", "gen_ai.usage.input_tokens", "sessions"), or "count" or
// "total" after a secret word or its plural ("token_count", "tokensTotal").
// A number of the form [IsCountValue] given to such a name is left
// readable, in texts, query strings and attributes: it says how many
// secrets there were, not what they are.
func (r *Rules) CountName(name string) bool {
	if r == nil || len(r.exact) == 0 {
		return false
	}
	var last, prev string
	for i := 0; ; {
		s, e := nextWord(name, i)
		if s == e {
			break
		}
		prev, last, i = last, name[s:e], e
	}
	if strings.EqualFold(last, "count") || strings.EqualFold(last, "total") {
		return r.secretWord(prev, false) || r.secretWord(prev, true)
	}
	return r.secretWord(last, true)
}

// secretWord reports whether w, one word of a name, is a secret word (or,
// with plural, the plural of one), in any case.
func (r *Rules) secretWord(w string, plural bool) bool {
	if plural {
		if len(w) < 3 || lowerASCII(w[len(w)-1]) != 's' {
			return false
		}
		w = w[:len(w)-1]
	}
	var buf [maxRun]byte
	if len(w) == 0 || len(w) > len(buf) {
		return false
	}
	for i := 0; i < len(w); i++ {
		buf[i] = lowerASCII(w[i])
	}
	_, ok := r.exact[string(buf[:len(w)])]
	return ok
}

// authCredential reports whether s[i:j] names an HTTP authentication scheme
// whose credential is one token — Bearer (RFC 6750) or Basic (RFC 7617),
// in any case — followed by blanks (spaces or tabs) and such a credential,
// and returns the credential's bounds. A credential is a run of token68
// characters (letters, digits, "-._~+/" and "=" padding) that is not a
// plain word: "Bearer token expired" and "Basic Auth" are prose, and a
// challenge's parameters (Bearer realm="api", error_description="…") are
// not credentials.
func authCredential(s string, i, j int) (cs, ce int, ok bool) {
	if n := j - i; n != 5 && n != 6 || j+1 >= len(s) || !isBlank(s[j]) {
		return 0, 0, false
	}
	if !strings.EqualFold(s[i:j], "bearer") && !strings.EqualFold(s[i:j], "basic") {
		return 0, 0, false
	}
	cs = j + 1
	for cs < len(s) && isBlank(s[cs]) {
		cs++ // "Bearer<TAB>token", "Bearer  token"
	}
	pe := cs
	for pe < len(s) && isToken68(s[pe]) {
		pe++
	}
	ce = pe
	for ce < len(s) && s[ce] == '=' {
		ce++
	}
	if pe == cs || plainWord(s[cs:pe]) {
		return 0, 0, false
	}
	if ce > pe && ce < len(s) && (s[ce] == '"' || isToken68(s[ce])) {
		return 0, 0, false // an auth-param: name="value" or name=value
	}
	return cs, ce, true
}

// isToken68 reports whether c is a character of RFC 9110's token68, the
// "=" padding aside.
func isToken68(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// plainWord reports whether w is a word of prose or a keyword: ASCII
// letters, lower case but for the first, or all upper case ("FROM").
func plainWord(w string) bool {
	lower, upper := 0, 0
	for k := 0; k < len(w); k++ {
		switch c := w[k]; {
		case 'a' <= c && c <= 'z':
			lower++
		case 'A' <= c && c <= 'Z':
			upper++
		default:
			return false
		}
	}
	return lower == 0 || upper == 0 || upper == 1 && 'A' <= w[0] && w[0] <= 'Z'
}

// isBlank reports whether c is a space or a tab, which separate a name,
// its "=" or ":" and its value alike.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// afterEquals reports whether the value at s[vs] follows an "=", right
// after it or after blanks ("password = two words").
func afterEquals(s string, vs int) bool {
	k := vs - 1
	for k > 0 && isBlank(s[k]) {
		k--
	}
	return k >= 0 && k < vs && s[k] == '='
}

// valueDelimAt reports whether s[e] ends an unquoted value: a byte
// valueDelim names, but for a backslash that escapes no quote — in a
// libpq connection string "password=a\ b" escapes a space and "a\b" is
// the value's own backslash — which is part of the value ("\"" and "\'"
// end it: a quoted text's escaped quote closes what holds the value).
func valueDelimAt(s string, e int) bool {
	if s[e] != '\\' {
		return valueDelim(s[e])
	}
	if e+1 == len(s) {
		return true
	}
	switch s[e+1] {
	case '"', '\'', '`':
		return true
	}
	return false
}

// valueDelim reports whether c ends an unquoted value.
func valueDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '&', ';', ',', '"', '\'', '`', '<', '>', '(', ')', '[', ']', '{', '}', '#', '|', '\\':
		return true
	}
	return false
}

// isNil reports whether v is the nil or null fmt and JSON write: no secret.
func isNil(v string) bool { return v == "null" || v == "<nil>" }

// isPlaceholder reports whether v is a statement's placeholder ("?", "$1",
// ":name", "@name"): not a value, and nothing to hide.
func isPlaceholder(v string) bool {
	if v == "?" {
		return true
	}
	if len(v) < 2 || (v[0] != '$' && v[0] != ':' && v[0] != '@') {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !isAlnum(v[i]) && v[i] != '_' {
			return false
		}
	}
	return true
}

func pathUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// ScrubError returns an error message with its quoted fragments ('…', "…"
// and `…`) replaced by [Redacted], quotes kept: drivers and servers quote
// the values they reject, as SQLite's near "'hunter2'": syntax error does. A
// quote inside a word (can't, O'Brien; not after the percent-escape of a
// sign, "%40") opens nothing, nor does one right
// after the marker, which stands for a word [Rules.Text] hid
// ("token=0\"0…" gives "token=[REDACTED]\"0…", read again the same), nor
// the quotes of an empty fragment there (token=!"" gives
// token=[REDACTED]""); an unterminated fragment runs to the end of the
// message.
func ScrubError(msg string) string {
	t := textScrub{s: msg}
	for i := 0; i < len(msg); i++ {
		q := msg[i]
		if q != '\'' && q != '"' && q != '`' {
			continue // the common case, tested alone: a tight loop
		}
		if i > 0 && isAlnum(msg[i-1]) && !afterEscape(msg, i) {
			continue
		}
		if i >= len(Redacted) && msg[i-1] == ']' && msg[i-len(Redacted):i] == Redacted {
			for i+1 < len(msg) && msg[i+1] == q {
				i++ // the quotes of an empty fragment after the marker: token=!"" hid "!"
			}
			continue
		}
		end := closeQuote(msg, i+1, q)
		if end == i+1 || msg[i+1:end] == Redacted {
			i = end
			continue
		}
		t.replace(i+1, end, Redacted)
		i = end
	}
	return t.String()
}

// afterEscape reports whether s[i] follows a percent-escape of a character
// that is no letter nor digit ("%40", not "%D7"): [Rules.Text] may have
// written the character so when it hid a value beside it, and ScrubError
// reads it as it read the character.
func afterEscape(s string, i int) bool {
	return i >= 3 && s[i-3] == '%' && isHex(s[i-2]) && isHex(s[i-1]) && !isAlnum(hexVal(s[i-2])<<4|hexVal(s[i-1]))
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func hexVal(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// closeQuote returns the index of the quote q that closes a fragment opened
// before i — one not followed by a letter or digit, nor doubled — or
// len(s) when there is none.
func closeQuote(s string, i int, q byte) int {
	for ; i < len(s); i++ {
		if s[i] != q {
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			i++ // doubled: an escaped quote
			continue
		}
		if i+1 < len(s) && isAlnum(s[i+1]) {
			continue
		}
		return i
	}
	return len(s)
}

// Error returns an error message redacted for storage: [ScrubError], then
// [Rules.Text].
func (r *Rules) Error(msg string) string { return r.Text(ScrubError(msg)) }
