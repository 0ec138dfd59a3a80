package convention

import "strings"

// Redis commands whose arguments hold secrets besides AUTH's (see
// redisAuth), as a log, an error or MONITOR quotes them: the kinds
// redisCommand returns.
const (
	redisNone    = iota
	redisAuthArg // "AUTH" ["user"] "password", in quotes (MONITOR)
	redisConfig  // CONFIG SET requirepass|masterauth <password>
	redisACL     // ACL SETUSER <user> … >password <password #hash …
	redisHash    // HSET|HMSET|HSETNX <key> <field> <value> …, a secret field's value
	redisAuthErr // auth [user] <password>: <error>, as go-redis writes a command that failed
	redisAuth2   // MIGRATE's AUTH2 <user> <password>: the password
)

// redisCommand returns which of the commands above the word w, followed by
// a blank, names: "AUTH2", "requirepass" and "masterauth" (CONFIG SET's
// parameters), "SETUSER", "HSET", "HMSET" or "HSETNX", in any case, and
// "AUTH" when quoted (q, MONITOR's "AUTH" "pw"); else redisNone. A
// cheap test of the word's length and first letter comes first: the scan
// asks of every word followed by a blank.
func redisCommand(w string, q bool) int {
	if len(w) < 4 || len(w) > 11 {
		return redisNone
	}
	switch w[0] | 0x20 {
	case 'a':
		if len(w) == 5 && strings.EqualFold(w, "AUTH2") {
			return redisAuth2
		}
		if q && len(w) == 4 && strings.EqualFold(w, "AUTH") {
			return redisAuthArg
		}
		if len(w) == 4 && strings.EqualFold(w, "AUTH") {
			return redisAuthErr
		}
	case 'r', 'm':
		if strings.EqualFold(w, "requirepass") || strings.EqualFold(w, "masterauth") {
			return redisConfig
		}
	case 's':
		if strings.EqualFold(w, "SETUSER") {
			return redisACL
		}
	case 'h':
		if strings.EqualFold(w, "HSET") || strings.EqualFold(w, "HMSET") || strings.EqualFold(w, "HSETNX") {
			return redisHash
		}
	}
	return redisNone
}

// maxRedisArgs bounds the arguments of one command redisArgs reads.
const maxRedisArgs = 64

// redisArg returns the bounds of the argument of a Redis command that
// begins at s[p] after blanks — a word, or a string in double quotes as
// MONITOR and redis-cli write one — and where the next may begin; ok is
// false at the end of the line or of s.
func redisArg(s string, p int) (as, ae, next int, ok bool) {
	for p < len(s) && isBlank(s[p]) {
		p++
	}
	if p >= len(s) || s[p] == '\n' || s[p] == '\r' {
		return 0, 0, 0, false
	}
	if s[p] == '"' {
		e := p + 1
		for e < len(s) && s[e] != '"' && s[e] != '\n' {
			if s[e] == '\\' {
				e++
			}
			e++
		}
		if e >= len(s) || s[e] != '"' {
			return 0, 0, 0, false
		}
		return p + 1, e, e + 1, true
	}
	e := p
	if s[e] == '>' || s[e] == '<' || s[e] == '#' {
		e++ // ACL's rules: ">password", "#<sha256>"
	}
	for e < len(s) && !valueDelimAt(s, e) {
		e++
	}
	if e == p {
		return 0, 0, 0, false
	}
	return p, e, e, true
}

// redisArgs hides the secrets in the arguments of the Redis command of the
// kind given (see redisCommand), which begin after s[j], and returns where
// the scan goes on (j when it hid nothing).
func (r *Rules) redisArgs(t *textScrub, s string, j, kind int) int {
	next := j
	hide := func(as, ae int) {
		if s[as:ae] != Redacted && !proseWord(s[as:ae]) {
			t.replace(as, ae, Redacted)
		}
	}
	switch kind {
	case redisAuth2:
		// AUTH2 <user> <password>: the user stays, as otelexport's
		// bridge writes it.
		if _, _, e, ok := redisArg(s, next); ok {
			if as, ae, e2, ok := redisArg(s, e); ok {
				hide(as, ae)
				next = e2
			}
		}
	case redisAuthArg, redisConfig:
		n := 2 // "AUTH" ["user"] "password"
		if kind == redisConfig {
			n = 1
		}
		for ; n > 0; n-- {
			as, ae, e, ok := redisArg(s, next)
			if !ok || ae < len(s) && s[ae] == ':' {
				break
			}
			hide(as, ae)
			next = e
		}
	case redisAuthErr:
		// "auth bob hunter2: WRONGPASS …": the arguments before the ":"
		// that ends them, one or two.
		as, ae, e, ok := redisArg(s, j)
		if !ok {
			return j
		}
		if s[ae-1] == ':' && ae-1 > as {
			hide(as, ae-1)
			return ae - 1
		}
		ps, pe, _, ok := redisArg(s, e)
		if !ok || s[pe-1] != ':' || pe-1 == ps || ps != ae+1 {
			return j
		}
		hide(as, ae) // the user, as AUTH's
		hide(ps, pe-1)
		return pe - 1
	case redisACL:
		// ACL SETUSER <user> [rule …]: ">pw" and "<pw" add and remove a
		// password, "#<sha256>" and "!<sha256>" a password's hash.
		_, _, e, ok := redisArg(s, next)
		for n := 0; ok && n < maxRedisArgs; n++ {
			next = e
			var as, ae int
			if as, ae, e, ok = redisArg(s, next); ok && ae-as > 1 {
				switch s[as] {
				case '>', '<', '#', '!':
					hide(as+1, ae)
				}
			} else if ok && !r.plainArg(s[as:ae]) {
				break // read by the scan
			}
		}
	case redisHash:
		// HSET <key> <field> <value> …: a field named secret, its value.
		// The scan goes on past the words read, and stops before one
		// that is more than a word (JSON, "a=b"), which it reads as it
		// reads any text: what follows is its own.
		ks, ke, e, ok := redisArg(s, next)
		if !ok {
			break
		}
		if key := s[ks:ke]; !r.plainArg(key) {
			// A key "prefix:id", read as "name:value" is: "session:<id>".
			c := strings.IndexByte(key, ':')
			if c <= 0 || !r.plainArg(key[:c]) || !r.plainArg(key[c+1:]) {
				break
			}
			if r.SecretName(key[:c]) && c+1 < len(key) {
				hide(ks+c+1, ke)
			}
		}
		for n := 0; ok && n < maxRedisArgs; n += 2 {
			var fs, fe, vs, ve int
			if fs, fe, e, ok = redisArg(s, e); !ok || !r.plainArg(s[fs:fe]) {
				break
			}
			if vs, ve, e, ok = redisArg(s, e); !ok {
				break
			}
			switch {
			case r.SecretName(s[fs:fe]) && !r.count(s[fs:fe], s[vs:ve]):
				hide(vs, ve)
			case !r.plainArg(s[vs:ve]):
				return next // read by the scan
			case r.values && SecretValue(s[vs:ve]):
				t.replace(vs, ve, Redacted)
			}
			next = e
		}
	}
	return next
}

// plainArg reports whether a Redis command's argument a is a single word,
// which the scan would judge by [SecretValue] alone: atoms only, and no
// longer than a name.
func (r *Rules) plainArg(a string) bool {
	if len(a) > maxRun {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !isAtom(a[i]) || a[i] == '%' {
			return false
		}
	}
	return true
}
