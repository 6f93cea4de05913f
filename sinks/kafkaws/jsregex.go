package kafkaws

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// dojot's in and nin call String(field).match(value), which turns the value
// into a JavaScript RegExp without flags. compileJSRegexp translates that
// source into Go's RE2 syntax.

// errJSRegexpInvalid: JavaScript itself would refuse the pattern (match then
// throws on every message, so the condition never lets a message through).
var errJSRegexpInvalid = errors.New("not a valid JavaScript regular expression")

// jsRegexpUnsupported: a valid JavaScript pattern that RE2 cannot run
// (backreferences, lookahead, lookbehind).
type jsRegexpUnsupported struct{ what string }

func (e *jsRegexpUnsupported) Error() string {
	return e.what + " is not supported (RE2 regular expressions)"
}

// jsSpace is JavaScript's \s as an RE2 class body.
const jsSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// compileJSRegexp compiles a JavaScript (non-Unicode, Annex B) pattern.
func compileJSRegexp(src string) (*regexp.Regexp, error) {
	var b strings.Builder
	inClass := false
	classStart := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inClass {
			switch {
			case c == ']' && !classStart:
				inClass = false
				b.WriteByte(']')
				continue
			case c == '\\':
				n, err := classEscape(&b, src, i)
				if err != nil {
					return nil, err
				}
				i = n
			case c == '[':
				b.WriteString(`\[`)
			default:
				if c == ']' { // "[]" and "[^]"
					b.WriteString(`\]`)
				} else {
					b.WriteByte(c)
				}
			}
			classStart = false
			continue
		}
		switch c {
		case '[':
			if strings.HasPrefix(src[i:], "[]") {
				b.WriteString(`[^\x00-\x{10FFFF}]`)
				i++
				continue
			}
			if strings.HasPrefix(src[i:], "[^]") {
				b.WriteString(`[\x00-\x{10FFFF}]`)
				i += 2
				continue
			}
			inClass, classStart = true, true
			b.WriteByte('[')
			if i+1 < len(src) && src[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
		case '.':
			b.WriteString(`[^\n\r\x{2028}\x{2029}]`)
		case '(':
			if strings.HasPrefix(src[i:], "(?") {
				rest := src[i+2:]
				switch {
				case strings.HasPrefix(rest, ":"):
					b.WriteString("(?:")
					i += 2
				case strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "!"):
					return nil, &jsRegexpUnsupported{"lookahead"}
				case strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, "<!"):
					return nil, &jsRegexpUnsupported{"lookbehind"}
				case strings.HasPrefix(rest, "<"):
					end := strings.IndexByte(rest, '>')
					if end <= 1 {
						return nil, errJSRegexpInvalid
					}
					b.WriteString("(?P<" + rest[1:end] + ">")
					i += 2 + end
				default:
					return nil, errJSRegexpInvalid
				}
				continue
			}
			b.WriteByte('(')
		case '{':
			// Annex B: a brace that does not start a quantifier is literal.
			if end := quantifierEnd(src, i); end > 0 {
				b.WriteString(src[i : end+1])
				i = end
			} else {
				b.WriteString(`\{`)
			}
		case '}':
			b.WriteString(`\}`)
		case ']':
			b.WriteString(`\]`)
		case '\\':
			n, err := atomEscape(&b, src, i)
			if err != nil {
				return nil, err
			}
			i = n
		default:
			b.WriteByte(c)
		}
	}
	if inClass {
		return nil, errJSRegexpInvalid
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errJSRegexpInvalid, err)
	}
	return re, nil
}

// quantifierEnd returns the index of the '}' closing a {n}, {n,} or {n,m}
// quantifier starting at src[i], or -1.
func quantifierEnd(src string, i int) int {
	j := i + 1
	d := 0
	for j < len(src) && src[j] >= '0' && src[j] <= '9' {
		j++
		d++
	}
	if d == 0 {
		return -1
	}
	if j < len(src) && src[j] == ',' {
		j++
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
	}
	if j < len(src) && src[j] == '}' {
		return j
	}
	return -1
}

// atomEscape translates the escape at src[i] (outside a class) and returns
// the index of its last byte.
func atomEscape(b *strings.Builder, src string, i int) (int, error) {
	if i+1 == len(src) {
		return 0, errJSRegexpInvalid // "\" at the end
	}
	c := src[i+1]
	switch c {
	case 'd', 'D', 'w', 'W', 'b', 'B':
		b.WriteString(src[i : i+2])
	case 's':
		b.WriteString("[" + jsSpace + "]")
	case 'S':
		b.WriteString("[^" + jsSpace + "]")
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return 0, &jsRegexpUnsupported{"a backreference"}
	default:
		return charEscape(b, src, i)
	}
	return i + 1, nil
}

// classEscape translates an escape inside a character class.
func classEscape(b *strings.Builder, src string, i int) (int, error) {
	if i+1 == len(src) {
		return 0, errJSRegexpInvalid
	}
	switch c := src[i+1]; c {
	case 'd', 'D', 'w', 'W':
		b.WriteString(src[i : i+2])
	case 's':
		b.WriteString(jsSpace)
	case 'S':
		return 0, &jsRegexpUnsupported{`\S inside a character class`}
	case 'b':
		b.WriteString(`\x08`)
	default:
		return charEscape(b, src, i)
	}
	return i + 1, nil
}

// charEscape translates an escape that stands for one character.
func charEscape(b *strings.Builder, src string, i int) (int, error) {
	c := src[i+1]
	lit := func(r rune) { fmt.Fprintf(b, `\x{%x}`, r) }
	switch c {
	case 'n':
		lit('\n')
	case 'r':
		lit('\r')
	case 't':
		lit('\t')
	case 'v':
		lit('\v')
	case 'f':
		lit('\f')
	case '0':
		lit(0)
	case 'c':
		if i+2 < len(src) && (src[i+2]|0x20 >= 'a' && src[i+2]|0x20 <= 'z') {
			lit(rune(src[i+2] % 32))
			return i + 2, nil
		}
		b.WriteString(`\\c`) // Annex B: a literal backslash and c
	case 'x', 'u':
		n := 2
		if c == 'u' {
			n = 4
		}
		if i+2+n <= len(src) {
			if v, err := strconv.ParseUint(src[i+2:i+2+n], 16, 32); err == nil {
				lit(rune(v))
				return i + 1 + n, nil
			}
		}
		b.WriteByte(c) // Annex B: \x, \u without hex digits are literal
	default:
		if c < 0x80 && !isAlnum(c) {
			b.WriteByte('\\')
			b.WriteByte(c)
		} else {
			b.WriteByte(c) // Annex B identity escape: \q is q (other bytes of a UTF-8 sequence follow as they are)
		}
	}
	return i + 1, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
