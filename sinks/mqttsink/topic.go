package mqttsink

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/telebridge/telebridge/schemas"
)

// TypePlaceholder is replaced by the object type name (asset, location,
// sensordata, reeferdata, gensetdata, gtoemdata) in topic templates. Any
// other {path} placeholder is replaced by the payload field at that path
// (schemas.FieldValue), e.g. {ownerId}, {assetId} or {data.vin}.
const TypePlaceholder = "{type}"

// maxTopicBytes is MQTT's limit on a topic name (a UTF-8 string with a
// two-byte length prefix).
const maxTopicBytes = 65535

// ErrTopic marks a message whose topic cannot be built (a placeholder
// without a value, or a topic over MQTT's length limit). Such a message is
// not retried: it ends Failed at once and is dead-lettered.
var ErrTopic = errors.New("cannot build topic")

// topicTemplate is a parsed topic template: literal parts and placeholders
// in order.
type topicTemplate struct {
	raw   string
	parts []topicPart
	// static is the topic when the template has no field placeholder
	// (only {type} or nothing), per type; nil otherwise.
	static map[schemas.Type]string
}

type topicPart struct {
	literal string
	field   string // payload field path; "" for a literal
	isType  bool
}

// parseTopic parses a topic template. Literal parts must not contain the
// MQTT wildcards + and #, or NUL, and the template must not be empty.
// Placeholders are {type} or {field.path}; field paths must address a
// scalar of at least one object type (schemas.ValidFieldPath).
func parseTopic(raw string) (*topicTemplate, error) {
	if raw == "" {
		return nil, errors.New("topic is required (a topic or a template such as globe-tracker/events/{type})")
	}
	if !utf8.ValidString(raw) {
		return nil, fmt.Errorf("topic %q is not valid UTF-8", raw)
	}
	t := &topicTemplate{raw: raw}
	hasField := false
	for rest := raw; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			t.parts = append(t.parts, topicPart{literal: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, topicPart{literal: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("topic %q: unterminated { at byte %d", raw, len(raw)-len(rest)+i)
		}
		name := rest[i+1 : i+j]
		switch {
		case "{"+name+"}" == TypePlaceholder:
			t.parts = append(t.parts, topicPart{isType: true})
		case name == "":
			return nil, fmt.Errorf("topic %q: empty placeholder {}", raw)
		default:
			if err := anyTypeHasField(name); err != nil {
				return nil, fmt.Errorf("topic %q: placeholder {%s}: %w", raw, name, err)
			}
			t.parts = append(t.parts, topicPart{field: name})
			hasField = true
		}
		rest = rest[i+j+1:]
	}
	for _, p := range t.parts {
		if p.literal == "" {
			continue
		}
		if k := strings.IndexAny(p.literal, "+#\x00{}"); k >= 0 {
			return nil, fmt.Errorf("topic %q contains %q outside a placeholder: MQTT topic names may not contain the wildcards + and #, NUL or stray braces", raw, p.literal[k])
		}
	}
	if strings.HasPrefix(raw, "$") {
		return nil, fmt.Errorf("topic %q starts with $, which MQTT reserves for broker topics such as $SYS", raw)
	}
	if !hasField {
		t.static = make(map[schemas.Type]string, len(schemas.AllTypes()))
		for _, ty := range schemas.AllTypes() {
			s := t.render(ty, nil)
			if len(s) > maxTopicBytes {
				return nil, fmt.Errorf("topic %q is longer than %d bytes", raw, maxTopicBytes)
			}
			t.static[ty] = s
		}
	}
	return t, nil
}

// anyTypeHasField reports an error when path addresses no scalar field of
// any object type.
func anyTypeHasField(path string) error {
	var first error
	for _, ty := range schemas.AllTypes() {
		err := schemas.ValidFieldPath(ty, path)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return fmt.Errorf("addresses no field of any object type: %w", first)
}

// checkType reports an error when the template uses a field placeholder
// that objects of type ty can never fill.
func (t *topicTemplate) checkType(ty schemas.Type) error {
	for _, p := range t.parts {
		if p.field == "" {
			continue
		}
		if err := schemas.ValidFieldPath(ty, p.field); err != nil {
			return fmt.Errorf("topic %q: placeholder {%s} is not a field of %s objects: %w", t.raw, p.field, ty, err)
		}
	}
	return nil
}

// render builds the topic for an object of type ty. With o nil, field
// placeholders are rendered empty (used only for static templates).
func (t *topicTemplate) render(ty schemas.Type, o schemas.Object) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.isType:
			b.WriteString(string(ty))
		case p.field != "":
			if o != nil {
				v, _ := schemas.FieldValue(o, p.field)
				b.WriteString(EscapeTopicValue(v))
			}
		default:
			b.WriteString(p.literal)
		}
	}
	return b.String()
}

// topicFor returns the topic for o, or an error wrapping ErrTopic when a
// field placeholder has no value (absent optional field, empty string,
// non-scalar) or the topic is too long.
func (t *topicTemplate) topicFor(o schemas.Object) (string, error) {
	ty := o.ObjectType()
	if s, ok := t.static[ty]; ok {
		return s, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.isType:
			b.WriteString(string(ty))
		case p.field != "":
			v, ok := schemas.FieldValue(o, p.field)
			if !ok || v == "" {
				return "", fmt.Errorf("%w from template %q: %s object has no value for {%s}", ErrTopic, t.raw, ty, p.field)
			}
			b.WriteString(EscapeTopicValue(v))
		default:
			b.WriteString(p.literal)
		}
	}
	if b.Len() > maxTopicBytes {
		return "", fmt.Errorf("%w from template %q: topic is %d bytes, over MQTT's limit of %d", ErrTopic, t.raw, b.Len(), maxTopicBytes)
	}
	return b.String(), nil
}

// EscapeTopicValue makes a payload value safe as part of one MQTT topic
// level: it percent-encodes (as %XX, upper-case hex) every byte that would
// change the topic's meaning or is not allowed in a topic name: the
// wildcards '+' and '#', the level separator '/', NUL and the other ASCII
// control characters, '$' (topics starting with $ are reserved), '%'
// itself (so the encoding is reversible with url.PathUnescape), and the
// bytes of invalid UTF-8. A value therefore never becomes a wildcard and
// never changes the number of levels of a topic. Values that need no
// escaping are returned unchanged, without allocation.
func EscapeTopicValue(v string) string {
	need := false
	for i := 0; i < len(v); i++ {
		if escapeByte(v[i]) {
			need = true
			break
		}
	}
	if !need && utf8.ValidString(v) {
		return v
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(v)+8)
	for i := 0; i < len(v); {
		c := v[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(v[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, '%', hex[c>>4], hex[c&15])
			} else {
				b = append(b, v[i:i+size]...)
			}
			i += size
			continue
		}
		if escapeByte(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
		i++
	}
	return string(b)
}

func escapeByte(c byte) bool {
	switch c {
	case '+', '#', '/', '$', '%':
		return true
	}
	return c < 0x20 || c == 0x7f
}

// ValidateTopic checks a topic template as New does, and that objects of
// type ty can fill every field placeholder in it. Configuration loaders
// use it to report template problems before the sink starts.
func ValidateTopic(raw string, ty schemas.Type) error {
	tt, err := parseTopic(raw)
	if err != nil {
		return err
	}
	return tt.checkType(ty)
}
