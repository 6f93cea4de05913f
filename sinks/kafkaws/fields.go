package kafkaws

import (
	"fmt"
	"strings"

	"github.com/coder/websocket"
)

// Limits on a `fields` expression.
const (
	maxFieldsLen   = 8192
	maxFieldsDepth = 32
)

// Fields is a parsed `fields` parameter in json-mask syntax: the parts of a
// message to send. A nil *Fields selects the whole message. A Fields is
// immutable and safe for concurrent use.
//
// Grammar (after URL decoding):
//
//	fields = list
//	list   = term *( "," term )
//	term   = name [ "/" term / "(" list ")" ]
//	name   = "*" / 1*( any character but "," "/" "(" ")" "*" "\" / escape )
//	escape = "\" ( "," / "/" / "(" / ")" / "*" / "\" )
//
// Selections of the same object merge (a/b,a/c equals a(b,c)); selecting a
// whole property wins over selecting inside it (a,a/b selects all of a).
type Fields struct {
	root *mask
}

// mask is one level of a selection.
type mask struct {
	all  bool             // the whole value is selected
	keys map[string]*mask // named properties
	star *mask            // every property ("*"), merged into keys by finish
}

// ParseFields parses a `fields` parameter (already URL-decoded). An empty
// string returns nil (whole messages). Errors are *FilterError with code
// 4000 (syntax) or 4002 (escape).
func ParseFields(s string) (*Fields, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > maxFieldsLen {
		return nil, fieldsErr(CodeInvalidSyntax, maxFieldsLen, "longer than %d bytes", maxFieldsLen)
	}
	p := &fieldsParser{s: s}
	root := &mask{}
	if err := p.list(root, 0); err != nil {
		return nil, err
	}
	if p.i != len(s) {
		return nil, fieldsErr(CodeInvalidSyntax, p.i, "unexpected %s (a ')' without '('?)", quoteShort(s[p.i:p.i+1], 4))
	}
	root.finish()
	return &Fields{root: root}, nil
}

func fieldsErr(code websocket.StatusCode, off int, format string, args ...any) *FilterError {
	return &FilterError{Code: code, Param: "fields", Offset: off, Msg: fmt.Sprintf(format, args...)}
}

type fieldsParser struct {
	s string
	i int
}

func (p *fieldsParser) list(into *mask, depth int) error {
	if depth > maxFieldsDepth {
		return fieldsErr(CodeInvalidSyntax, p.i, "nested deeper than %d levels", maxFieldsDepth)
	}
	for {
		if err := p.term(into, depth); err != nil {
			return err
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return nil
	}
}

func (p *fieldsParser) term(into *mask, depth int) error {
	if depth > maxFieldsDepth {
		return fieldsErr(CodeInvalidSyntax, p.i, "nested deeper than %d levels", maxFieldsDepth)
	}
	name, star, err := p.name()
	if err != nil {
		return err
	}
	child := into.child(name, star)
	if p.i == len(p.s) {
		child.all = true
		return nil
	}
	switch p.s[p.i] {
	case '/':
		p.i++
		return p.term(child, depth+1)
	case '(':
		open := p.i
		p.i++
		if err := p.list(child, depth+1); err != nil {
			return err
		}
		if p.i == len(p.s) || p.s[p.i] != ')' {
			return fieldsErr(CodeInvalidSyntax, open, "'(' is never closed")
		}
		p.i++
		return nil
	}
	child.all = true
	return nil
}

// name reads a property name or "*".
func (p *fieldsParser) name() (string, bool, error) {
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '*' {
		p.i++
		if p.i < len(p.s) && !strings.ContainsRune(",/()", rune(p.s[p.i])) {
			return "", false, fieldsErr(CodeInvalidSyntax, start, "'*' must be a whole name (write \\* for a literal *)")
		}
		return "", true, nil
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case ',', '/', '(', ')':
			goto done
		case '*':
			return "", false, fieldsErr(CodeInvalidSyntax, p.i, "'*' must be a whole name (write \\* for a literal *)")
		case '\\':
			if p.i+1 == len(p.s) {
				return "", false, fieldsErr(CodeInvalidEscape, p.i, "'\\' at the end (escapes: \\, \\/ \\( \\) \\* \\\\)")
			}
			e := p.s[p.i+1]
			if !strings.ContainsRune(",/()*\\", rune(e)) {
				return "", false, fieldsErr(CodeInvalidEscape, p.i, "unsupported escape %s (escapes: \\, \\/ \\( \\) \\* \\\\)", quoteShort(p.s[p.i:p.i+2], 4))
			}
			b.WriteByte(e)
			p.i += 2
			continue
		}
		b.WriteByte(c)
		p.i++
	}
done:
	if p.i == start {
		if p.i == len(p.s) {
			return "", false, fieldsErr(CodeInvalidSyntax, p.i, "expected a property name, found the end")
		}
		return "", false, fieldsErr(CodeInvalidSyntax, p.i, "expected a property name before %s", quoteShort(p.s[p.i:p.i+1], 4))
	}
	return b.String(), false, nil
}

func (m *mask) child(name string, star bool) *mask {
	if star {
		if m.star == nil {
			m.star = &mask{}
		}
		return m.star
	}
	if m.keys == nil {
		m.keys = map[string]*mask{}
	}
	c := m.keys[name]
	if c == nil {
		c = &mask{}
		m.keys[name] = c
	}
	return c
}

// finish merges the wildcard selection into every named one, so that Apply
// needs a single look-up per property.
func (m *mask) finish() {
	if m.star != nil {
		m.star.finish()
		for _, c := range m.keys {
			c.merge(m.star)
		}
	}
	for _, c := range m.keys {
		c.finish()
	}
}

// merge adds o's selection to m (deep copy of o's structure).
func (m *mask) merge(o *mask) {
	if o.all {
		m.all = true
	}
	for k, oc := range o.keys {
		m.child(k, false).merge(oc)
	}
	if o.star != nil {
		m.child("", true).merge(o.star)
	}
}

// Apply returns the selected parts of v. Objects keep the selected
// properties that exist (possibly none: an empty object); arrays apply the
// selection to each element and keep the elements that give something;
// a scalar where a selection goes deeper gives nothing. A nil *Fields
// returns v unchanged.
func (f *Fields) Apply(v any) any {
	if f == nil {
		return v
	}
	out, ok := f.root.apply(v)
	if !ok {
		return map[string]any{}
	}
	return out
}

func (m *mask) apply(v any) (any, bool) {
	if m.all {
		return v, true
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any)
		for k, e := range x {
			sub := m.keys[k]
			if sub == nil {
				sub = m.star
			}
			if sub == nil {
				continue
			}
			if r, ok := sub.apply(e); ok {
				out[k] = r
			}
		}
		return out, true
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if r, ok := m.apply(e); ok {
				out = append(out, r)
			}
		}
		return out, true
	}
	return nil, false
}
