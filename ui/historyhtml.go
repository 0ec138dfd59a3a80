package ui

import (
	"html/template"
	"strconv"
	"strings"
)

// historyRowsHTML writes the history table's rows: the bytes the
// template's loop over them wrote (historyrows_internal_test.go keeps that
// loop and compares), without a template action per value. html/template
// spent three quarters of a live refresh's history in its escapers and
// reflective calls, for 50 rows of plain, already formatted fields.
//
// Every value is escaped as html/template escapes it where it lands: text
// and quoted attribute values with escapeHTML, the record's ID in the
// link's path with escapeURLPath first. instances says whether the table
// has the instance column ($.Instances in the template).
func historyRowsHTML(rows []historyRow, instances bool) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 640) // a row of a hello request is ~600 bytes
	for i := range rows {
		r := &rows[i]
		b.WriteString("\n  <tr data-id=\"")
		escapeHTML(&b, r.ID)
		b.WriteByte('"')
		if r.Failed {
			b.WriteString(` class="failed"`)
		}
		b.WriteString(">\n    <td class=\"time\"><time datetime=\"")
		escapeHTML(&b, r.ISO)
		b.WriteString(`">`)
		escapeHTML(&b, r.Stamp)
		b.WriteString("</time></td>\n    <td class=\"method\">")
		escapeHTML(&b, r.Method)
		b.WriteString("</td>\n    <td class=\"path\"><a href=\"records/")
		escapeHTML(&b, escapeURLPath(r.ID))
		b.WriteString(`">`)
		escapeHTML(&b, r.Path)
		if r.Query != "" {
			b.WriteString(`<span class="q">?`)
			escapeHTML(&b, r.Query)
			b.WriteString("</span>")
		}
		b.WriteString("</a>")
		if r.Route != "" {
			b.WriteString(` <span class="route">`)
			escapeHTML(&b, r.Route)
			b.WriteString("</span>")
		}
		if instances {
			b.WriteString(` <span class="instance">`)
			escapeHTML(&b, r.Instance)
			b.WriteString("</span>")
		}
		b.WriteString("</td>\n    <td class=\"num\">")
		if r.Message {
			b.WriteString(`<span class="muted" title="a message handled on a long-lived connection">`)
			if r.Error {
				b.WriteString("✕")
			} else {
				b.WriteString("–")
			}
			b.WriteString("</span>")
		} else {
			// {{with .Status}}: a struct is always true.
			b.WriteString(`<span class="status `)
			escapeHTML(&b, r.Status.Class)
			b.WriteString(`" title="`)
			escapeHTML(&b, r.Status.Title)
			b.WriteString(`">`)
			escapeHTML(&b, r.Status.Text)
			b.WriteString("</span>")
		}
		b.WriteString("</td>\n    <td class=\"num\">")
		escapeHTML(&b, r.Duration)
		b.WriteString("</td>\n    <td class=\"num\">")
		b.WriteString(strconv.Itoa(r.CallCount))
		if r.ErrorCalls != 0 {
			b.WriteString(` <span class="bad" title="calls that failed">(`)
			b.WriteString(strconv.Itoa(r.ErrorCalls))
			b.WriteString("✕)</span>")
		}
		b.WriteString("</td>\n    <td class=\"num muted\">")
		escapeHTML(&b, r.Overhead)
		b.WriteString("</td>\n    <td class=\"flags\">")
		if r.Warnings != 0 {
			b.WriteString(`<span class="badge warn" title="warnings: repeated calls or calls left running">`)
			b.WriteString(strconv.Itoa(r.Warnings))
			b.WriteString(" ⚠</span>")
		}
		if r.Panic {
			b.WriteString(`<span class="badge bad">panic</span>`)
		}
		b.WriteString("</td>\n  </tr>\n  ")
	}
	return template.HTML(b.String())
}

// escapeHTML writes s to b as html/template writes a string in HTML text
// or in a quoted attribute value (its htmlEscaper and attrEscaper, which
// share one table): NUL becomes U+FFFD; ", &, ', +, < and > become
// entities; everything else, invalid UTF-8 included, is written as it is.
// It reads bytes where html/template reads runes: every byte it replaces
// is ASCII, and no byte of a multi-byte sequence is, nor is a byte
// html/template reads as an invalid sequence of one byte, which it leaves.
func escapeHTML(b *strings.Builder, s string) {
	written := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		b.WriteString(s[written:i])
		b.WriteString(repl)
		written = i + 1
	}
	b.WriteString(s[written:])
}

// escapeURLPath returns s as html/template normalizes a value in a URL's
// path after its first characters (its urlNormalizer): RFC 3986's
// unreserved and reserved characters and valid percent escapes stay, every
// other byte is percent-encoded (lower-case hex). Its result still needs
// escapeHTML in an attribute ('&' stays).
func escapeURLPath(s string) string {
	var b []byte
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s)+16)
		}
		b = append(b, s[written:i]...)
		b = append(b, '%', hexLower[c>>4], hexLower[c&0xF])
		written = i + 1
	}
	if b == nil {
		return s
	}
	return string(append(b, s[written:]...))
}

const hexLower = "0123456789abcdef"

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
