package convention

import (
	"unicode/utf8"
	"unsafe"
)

// hasHigh reports whether s holds a byte of a non-ASCII character.
func hasHigh(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// foldName returns name with the other spellings of ASCII letters that a
// name may be written with folded to them, so that [Rules.SecretName]
// judges "ｐａｓｓｗｏｒｄ" (fullwidth forms), "pass\u00adword" (a soft
// hyphen inside) and "раssword" (its first letters Cyrillic) as it judges
// "password":
//
//   - the fullwidth forms of ASCII (U+FF01–U+FF5E) become ASCII;
//   - characters that are not drawn — the soft hyphen, zero-width spaces
//     and joiners, direction marks, the word joiner, the byte order mark —
//     are dropped;
//   - the Cyrillic and Greek letters drawn as Latin ones (а е о р с у х
//     ѕ і ј, А В Е К М Н О Р С Т Х…, ο α ρ ι κ ν, Α Β Ε Η Ι Κ Μ Ν Ο Ρ Τ
//     Χ Υ Ζ) become those, in their case.
//
// Any other character is kept as it is. The fold is one pass over name,
// with no table but a switch; the result is never longer than name, and is
// written in buf when it fits (the caller's array: no allocation), in a
// new string otherwise.
func foldName(name string, buf []byte) string {
	out := buf[:0]
	if cap(out) < len(name) {
		out = make([]byte, 0, len(name))
	}
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(name[i:])
		switch f := foldRune(r); {
		case f < 0:
			// not drawn: dropped
		case f > 0:
			out = append(out, byte(f))
		default:
			out = append(out, name[i:i+n]...)
		}
		i += n
	}
	if len(out) == 0 {
		return ""
	}
	return unsafe.String(&out[0], len(out))
}

// foldRune returns the ASCII letter or sign r is drawn as (see foldName),
// -1 when r is not drawn at all, and 0 when r is kept as it is.
func foldRune(r rune) rune {
	if 0xFF01 <= r && r <= 0xFF5E {
		return r - 0xFF01 + '!' // fullwidth ASCII
	}
	switch r {
	case 0x00AD, 0x034F, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF:
		return -1 // soft hyphen, joiners, zero-width spaces, marks, BOM
	// Cyrillic
	case 'а':
		return 'a'
	case 'е':
		return 'e'
	case 'о':
		return 'o'
	case 'р':
		return 'p'
	case 'с':
		return 'c'
	case 'у':
		return 'y'
	case 'х':
		return 'x'
	case 'ѕ':
		return 's'
	case 'і':
		return 'i'
	case 'ј':
		return 'j'
	case 'ԁ':
		return 'd'
	case 'ԝ':
		return 'w'
	case 'А':
		return 'A'
	case 'В':
		return 'B'
	case 'Е':
		return 'E'
	case 'К':
		return 'K'
	case 'М':
		return 'M'
	case 'Н':
		return 'H'
	case 'О':
		return 'O'
	case 'Р':
		return 'P'
	case 'С':
		return 'C'
	case 'Т':
		return 'T'
	case 'Х':
		return 'X'
	case 'Ѕ':
		return 'S'
	case 'І':
		return 'I'
	case 'Ј':
		return 'J'
	// Greek
	case 'ο':
		return 'o'
	case 'α':
		return 'a'
	case 'ρ':
		return 'p'
	case 'ι':
		return 'i'
	case 'κ':
		return 'k'
	case 'ν':
		return 'v'
	case 'Α':
		return 'A'
	case 'Β':
		return 'B'
	case 'Ε':
		return 'E'
	case 'Η':
		return 'H'
	case 'Ι':
		return 'I'
	case 'Κ':
		return 'K'
	case 'Μ':
		return 'M'
	case 'Ν':
		return 'N'
	case 'Ο':
		return 'O'
	case 'Ρ':
		return 'P'
	case 'Τ':
		return 'T'
	case 'Χ':
		return 'X'
	case 'Υ':
		return 'Y'
	case 'Ζ':
		return 'Z'
	}
	return 0
}
