package convention

import "strings"

// SecretValue reports whether a value looks like a secret whatever its name
// is:
//
//   - a JSON Web Token (three base64url parts, the first "eyJ…");
//   - a payment card number: 13 to 19 digits, alone or in groups separated by
//     spaces or dashes, starting with 2 to 6 and passing the Luhn check;
//   - a US social security number (123-45-6789);
//   - an e-mail address;
//   - a token with a well-known prefix (sk_live_, ghp_, xoxb-, AKIA…);
//   - a long random-looking token: 20 characters or more (16 with base64
//     padding) of base64 or base64url, with a run of 16 letters and digits
//     mixed the way random strings mix them — letters and digits
//     alternating often, or lower and upper case alternating often with few
//     vowels; in standard base64, "/" and "+" count in the run (an AWS
//     secret access key), unless the value reads as a path (a word between
//     two "/", or more than three).
//
// Identifiers are not secrets and are left readable: numbers that are not
// card numbers, UUIDs and other strings of hexadecimal digits (hashes,
// object IDs), dates, words and names in camelCase or snake_case. A secret
// written in hexadecimal is hidden only by its name.
func SecretValue(v string) bool {
	if len(v) < 6 {
		return false
	}
	if at := strings.IndexByte(v, '@'); at >= 0 {
		return isEmail(v, at)
	}
	if isCardNumber(v) || isSSN(v) {
		return true
	}
	if len(v) < 16 {
		return false
	}
	return isJWT(v) || knownPrefix(v) || looksRandom(v, false) ||
		strings.ContainsAny(v, "/+") && !pathLike(v) && looksRandom(v, true)
}

// isEmail reports whether v, with an @ at at, is an e-mail address.
func isEmail(v string, at int) bool {
	local, domain := v[:at], v[at+1:]
	if local == "" || len(domain) < 4 {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; !isAlnum(c) && strings.IndexByte("._%+-", c) < 0 {
			return false
		}
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || len(domain)-dot-1 < 2 {
		return false
	}
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	for i := dot + 1; i < len(domain); i++ {
		if isDigit(domain[i]) {
			return false
		}
	}
	return true
}

// isCardNumber reports whether v is a payment card number, alone or in
// groups separated by single spaces or dashes.
func isCardNumber(v string) bool {
	end, ok := cardSpan(v, 0)
	return ok && end == len(v)
}

// cardSpan reports whether a card number starts at s[i] (and not within a
// longer word), and where it ends. A run of groups of digits longer than a
// card ("20 000220000000 20002200000000") is no card, but its longest
// first groups that are one are: so the run is judged as it will be once
// a card later in it is hidden, and redaction stays idempotent.
func cardSpan(s string, i int) (end int, ok bool) {
	if i >= len(s) || s[i] < '2' || s[i] > '6' || i > 0 && isAlnum(s[i-1]) {
		return 0, false
	}
	var digits [19]byte
	var groupEnd, groupDigits [len(digits)]int // where each group but the last ends, and the digits up to there
	groups := 0
	n := 0
	j := i
	for j < len(s) {
		c := s[j]
		if isDigit(c) {
			if n == len(digits) {
				for g := groups - 1; g >= 0; g-- {
					if groupDigits[g] >= 13 && luhn(digits[:groupDigits[g]]) {
						return groupEnd[g], true
					}
				}
				return 0, false
			}
			digits[n] = c - '0'
			n++
			j++
			continue
		}
		if (c == ' ' || c == '-') && j+1 < len(s) && isDigit(s[j+1]) && isDigit(s[j-1]) {
			groupEnd[groups], groupDigits[groups] = j, n
			groups++
			j++
			continue
		}
		break
	}
	if n < 13 || j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
		return 0, false
	}
	return j, luhn(digits[:n])
}

func luhn(d []byte) bool {
	sum := 0
	for k := 0; k < len(d); k++ {
		x := int(d[len(d)-1-k])
		if k%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

// isSSN reports whether v is written as a US social security number:
// 123-45-6789.
func isSSN(v string) bool {
	if len(v) != 11 || v[3] != '-' || v[6] != '-' || v[:3] == "000" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if i != 3 && i != 6 && !isDigit(v[i]) {
			return false
		}
	}
	return true
}

// isJWT reports whether v is a JSON Web Token (or its encrypted form):
// base64url parts separated by dots, the first a JSON object ("eyJ").
func isJWT(v string) bool {
	if !strings.HasPrefix(v, "eyJ") {
		return false
	}
	parts := strings.Count(v, ".")
	if parts != 2 && parts != 4 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' && c != '=' {
			return false
		}
	}
	return true
}

// secretPrefixes start tokens of well-known services.
var secretPrefixes = [...]string{
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
	"github_pat_", "glpat-", "xoxb-", "xoxp-", "xoxa-", "xoxs-", "xapp-", "AKIA", "ASIA", "AIza", "ya29.", "npm_",
	"SG.", "sk-",
}

func knownPrefix(v string) bool {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(v, p) && len(v) >= len(p)+12 {
			return true
		}
	}
	return false
}

// looksRandom reports whether v looks like a random token: see
// [SecretValue]. With base64, v is read as standard base64, whose "+" and
// "/" are digits as random as the others (an AWS secret access key), not
// separators that end a run of letters and digits.
func looksRandom(v string, base64 bool) bool {
	n := len(v)
	for n > 0 && v[n-1] == '=' {
		n--
	}
	padded := n < len(v)
	if len(v)-n > 2 || n < 20 && !(padded && n >= 16) {
		return false
	}
	hexOnly := true
	var upper, lower, digits, vowels, letterDigit, caseSwitch, run, longest int
	for i := 0; i < n; i++ {
		c := v[i]
		switch {
		case isDigit(c):
			digits++
		case 'a' <= c && c <= 'z':
			lower++
			if strings.IndexByte("aeiou", c) >= 0 {
				vowels++
			}
		case 'A' <= c && c <= 'Z':
			upper++
			if strings.IndexByte("AEIOU", c) >= 0 {
				vowels++
			}
		case base64 && (c == '+' || c == '/'):
			hexOnly = false
			run++
			longest = max(longest, run)
			continue
		case c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/':
			if c != '-' {
				hexOnly = false
			}
			run = 0
			continue
		default:
			return false
		}
		if !isDigit(c) && !('a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			hexOnly = false
		}
		run++
		longest = max(longest, run)
		if i > 0 && run > 1 {
			p := v[i-1]
			if isDigit(p) != isDigit(c) {
				letterDigit++
			} else if !isDigit(c) && isUpper(p) != isUpper(c) {
				caseSwitch++
			}
		}
	}
	if hexOnly || longest < 16 {
		return false // UUIDs, hashes, object IDs; slugs of short words
	}
	letters := upper + lower
	switch {
	case digits >= 2 && letters >= 4 && letterDigit >= 3:
		return true
	case upper > 0 && lower > 0 && caseSwitch*3 >= letters && vowels*10 < letters*3:
		return true
	}
	return false
}
