package sqlstats

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/goappstats/appstats/recording"
)

// secretWindow is how much of a long string argument is judged for its
// shape ([recording.Redaction.SecretValue]): its first 4 KB, which hold
// any JSON Web Token, card number or e-mail address worth the name; a
// longer string is judged by its start (a random token by its first 4 KB,
// as it is kept by its first 64 bytes).
const secretWindow = 4 << 10

// argText returns the recorded text of an argument v that no secret name
// masks: its value as fmt's %v prints it, with strings quoted, byte slices
// as their length, a pointer as what it points at (NULL when nil), clipped
// to maxArgValue bytes and a "…" — or [recording.Redacted] when its value
// looks secret. The work and the memory it takes are bounded by what is
// kept, not by v's size: a 100 MB string, byte slice or slice of a million
// elements is read no further than its text is kept. Only a String or
// Error method of v's own (as fmt calls it) may do more.
func argText(red *recording.Redaction, v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return stringArg(red, v)
	case []byte:
		return "[" + strconv.Itoa(len(v)) + " bytes]"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	// The types a driver that takes any argument (pgx) is handed as they
	// are: named types, pointers, slices, structs.
	return otherArg(red, v)
}

// stringArg is argText for a string.
func stringArg(red *recording.Redaction, s string) string {
	if red.SecretValue(s[:min(len(s), secretWindow)]) {
		return recording.Redacted
	}
	if len(s) > maxArgValue {
		return strconv.Quote(s[:maxArgValue] + "…")
	}
	return strconv.Quote(s)
}

var (
	errorType    = reflect.TypeFor[error]()
	stringerType = reflect.TypeFor[fmt.Stringer]()
	// formatterType: a Format method of v's own is called as fmt calls it.
	formatterType = reflect.TypeFor[fmt.Formatter]()
)

func otherArg(red *recording.Redaction, v any) (text string) {
	defer func() {
		// A String or Error method that panics: fmt says so in the text,
		// and recording never fails the query.
		if p := recover(); p != nil {
			text = "?"
		}
	}()
	rv := reflect.ValueOf(v)
	if !hasMethods(rv.Type()) {
		switch rv.Kind() {
		case reflect.String:
			return stringArg(red, rv.String())
		case reflect.Pointer:
			if rv.IsNil() {
				return "NULL"
			}
			e := rv.Elem()
			switch e.Kind() {
			case reflect.Array, reflect.Slice, reflect.Struct, reflect.Map:
				// fmt's "&{…}".
			default:
				if e.CanInterface() {
					return argText(red, e.Interface())
				}
			}
		}
	}
	var c clipper
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && !hasMethods(rv.Type()) {
		c.str("&")
		c.value(rv.Elem(), 1)
	} else {
		c.value(rv, 0)
	}
	t := c.text()
	if red.SecretValue(t) {
		return recording.Redacted
	}
	return t
}

func hasMethods(t reflect.Type) bool {
	return t.Implements(errorType) || t.Implements(stringerType) || t.Implements(formatterType)
}

// A clipper writes a value's text, as fmt's %v does, no further than
// maxArgValue bytes and one more (which says it is clipped).
type clipper struct {
	b []byte
}

func (c *clipper) full() bool { return len(c.b) > maxArgValue }

func (c *clipper) str(s string) {
	if room := maxArgValue + 1 - len(c.b); len(s) > room {
		s = s[:max(room, 0)]
	}
	c.b = append(c.b, s...)
}

// text returns what was written, clipped.
func (c *clipper) text() string {
	if c.full() {
		return string(c.b[:maxArgValue]) + "…"
	}
	return string(c.b)
}

// maxDepth bounds the nesting the clipper follows (a value cannot nest
// deeper than its type, but an interface can hold itself).
const maxDepth = 16

// value writes rv at the nesting depth, as fmt's %v does: a pointer within
// a value as its address, a byte slice or array as its length.
func (c *clipper) value(rv reflect.Value, depth int) {
	if c.full() {
		return
	}
	if !rv.IsValid() {
		c.str("<nil>")
		return
	}
	if depth > maxDepth {
		c.str("…")
		return
	}
	if rv.CanInterface() && hasMethods(rv.Type()) {
		if (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) && rv.IsNil() {
			c.str("<nil>")
			return
		}
		// The type's own text: fmt calls it, and so does this. Its
		// cost is the type's.
		c.str(fmt.Sprint(rv.Interface()))
		return
	}
	var num [64]byte
	switch rv.Kind() {
	case reflect.Bool:
		c.str(strconv.FormatBool(rv.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.b = append(c.b, strconv.AppendInt(num[:0], rv.Int(), 10)...)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.b = append(c.b, strconv.AppendUint(num[:0], rv.Uint(), 10)...)
	case reflect.Float32:
		c.b = append(c.b, strconv.AppendFloat(num[:0], rv.Float(), 'g', -1, 32)...)
	case reflect.Float64:
		c.b = append(c.b, strconv.AppendFloat(num[:0], rv.Float(), 'g', -1, 64)...)
	case reflect.Complex64, reflect.Complex128:
		bits := 64
		if rv.Kind() == reflect.Complex64 {
			bits = 32
		}
		x := rv.Complex()
		c.str("(")
		c.b = append(c.b, strconv.AppendFloat(num[:0], real(x), 'g', -1, bits)...)
		im := strconv.AppendFloat(num[:0], imag(x), 'g', -1, bits)
		if im[0] != '-' && im[0] != '+' {
			c.str("+")
		}
		c.b = append(c.b, im...)
		c.str("i)")
	case reflect.String:
		c.str(rv.String())
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			c.str("[" + strconv.Itoa(rv.Len()) + " bytes]")
			return
		}
		c.str("[")
		for i := range rv.Len() {
			if c.full() {
				return
			}
			if i > 0 {
				c.str(" ")
			}
			c.value(rv.Index(i), depth+1)
		}
		c.str("]")
	case reflect.Struct:
		c.str("{")
		for i := range rv.NumField() {
			if c.full() {
				return
			}
			if i > 0 {
				c.str(" ")
			}
			c.value(rv.Field(i), depth+1)
		}
		c.str("}")
	case reflect.Map:
		c.mapValue(rv, depth)
	case reflect.Interface:
		c.value(rv.Elem(), depth+1)
	case reflect.Pointer, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		if rv.IsNil() {
			c.str("<nil>")
			return
		}
		c.str("0x")
		c.b = append(c.b, strconv.AppendUint(num[:0], uint64(rv.Pointer()), 16)...)
	default:
		c.str("?")
	}
}

// maxMapEntries is the most entries of a map written out, sorted by key
// as fmt sorts them; a larger map is written as its size.
const maxMapEntries = 16

func (c *clipper) mapValue(rv reflect.Value, depth int) {
	if rv.Len() > maxMapEntries {
		c.str("map[" + strconv.Itoa(rv.Len()) + " entries]")
		return
	}
	keys := rv.MapKeys()
	slices.SortFunc(keys, compareKeys)
	c.str("map[")
	for i, k := range keys {
		if c.full() {
			return
		}
		if i > 0 {
			c.str(" ")
		}
		c.value(k, depth+1)
		c.str(":")
		c.value(rv.MapIndex(k), depth+1)
	}
	c.str("]")
}

// compareKeys orders map keys of the basic kinds as fmt does; others keep
// the map's order.
func compareKeys(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmp.Compare(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return cmp.Compare(a.Uint(), b.Uint())
	case reflect.Float32, reflect.Float64:
		return cmp.Compare(a.Float(), b.Float())
	case reflect.String:
		return cmp.Compare(a.String(), b.String())
	case reflect.Bool:
		return cmp.Compare(boolInt(a.Bool()), boolInt(b.Bool()))
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
