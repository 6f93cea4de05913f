package kafkaws

import (
	"fmt"

	"github.com/coder/websocket"
)

// Limits on a `fields` expression (json-mask has none).
const (
	maxFieldsLen   = 8192
	maxFieldsDepth = 32
)

// Fields is a parsed `fields` parameter with the semantics of json-mask
// 1.0.4, the version dojot's kafka-ws pins. A nil *Fields selects the whole
// message. A Fields is immutable and safe for concurrent use.
//
// json-mask reads any text: ',' '/' '(' ')' separate names and everything
// else, spaces and backslashes included, belongs to a name; "*" alone is
// every property. Empty names are skipped, a later selection of a name
// replaces an earlier one (a/b,a/c selects only a/c; use a(b,c)), and text
// the grammar does not expect is ignored rather than refused.
type Fields struct {
	root *ordMap[*maskNode] // empty: select nothing
}

// maskNode is one selected name: its sub-selection (nil: the whole value)
// and whether json-mask compiled it as "array" (a name followed by '(').
type maskNode struct {
	array bool
	props *ordMap[*maskNode]
}

func fieldsErr(code websocket.StatusCode, off int, format string, args ...any) *FilterError {
	return &FilterError{Code: code, Param: "fields", Offset: off, Msg: fmt.Sprintf(format, args...)}
}

type maskToken struct {
	tag  byte // 'n' for a name, else the terminal
	name string
}

// ParseFields compiles a `fields` parameter (already URL-decoded) as
// json-mask does. An empty string returns nil (whole messages). It fails
// (4000) only beyond telebridge's limits: 8 KiB, 32 levels of nesting.
func ParseFields(s string) (*Fields, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > maxFieldsLen {
		return nil, fieldsErr(CodeInvalidSyntax, maxFieldsLen, "longer than %d bytes", maxFieldsLen)
	}
	var toks []maskToken
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ',', '/', '(', ')':
			if i > start {
				toks = append(toks, maskToken{tag: 'n', name: s[start:i]})
			}
			toks = append(toks, maskToken{tag: c})
			start = i + 1
		}
	}
	if start < len(s) {
		toks = append(toks, maskToken{tag: 'n', name: s[start:]})
	}
	b := &maskBuilder{toks: toks}
	root, err := b.tree(&maskParent{}, 0)
	if err != nil {
		return nil, err
	}
	return &Fields{root: root}, nil
}

type maskBuilder struct {
	toks []maskToken
	i    int
}

type maskParent struct {
	array    bool
	hasChild bool
}

// tree is json-mask's _buildTree: it reads names into props until a ',' or
// ')' (consumed), or, under a '/', after one name.
func (b *maskBuilder) tree(parent *maskParent, depth int) (*ordMap[*maskNode], error) {
	if depth > maxFieldsDepth {
		return nil, fieldsErr(CodeInvalidSyntax, 0, "nested deeper than %d levels", maxFieldsDepth)
	}
	props := newOrdMap[*maskNode]()
	for b.i < len(b.toks) {
		t := b.toks[b.i]
		b.i++
		switch t.tag {
		case 'n':
			self := &maskParent{}
			sub, err := b.tree(self, depth+1)
			if err != nil {
				return nil, err
			}
			n := &maskNode{array: self.array}
			if len(sub.vals) > 0 {
				n.props = sub
			}
			props.set(t.name, n)
			if parent.hasChild {
				return props, nil
			}
		case ',', ')':
			return props, nil
		case '(':
			parent.array = true
		case '/':
			parent.hasChild = true
		}
	}
	return props, nil
}

// Apply returns the parts of v that json-mask's filter keeps: for each
// selected name the property's value (whole, or reduced by the
// sub-selection); "*" stands for every property. An array is reduced
// element by element and left out when no element gives anything (an empty
// array stays). Under a sub-selection, null, false, 0 and "" are kept as
// they are, and other primitives are left out. ok is false when nothing is
// left (a top-level array with nothing selected). A nil *Fields returns v.
func (f *Fields) Apply(v any) (any, bool) {
	if f == nil {
		return v, true
	}
	if _, isArr := v.([]any); isArr {
		wrapper := newOrdMap[*maskNode]()
		wrapper.set("_", &maskNode{array: true, props: f.root})
		out, ok := maskProperties(map[string]any{"_": v}, wrapper)
		if !ok {
			return nil, false
		}
		r, ok := out.(map[string]any)["_"]
		return r, ok
	}
	return maskProperties(v, f.root)
}

// maskProperties is json-mask's _properties. A nil mask returns v.
func maskProperties(v any, mask *ordMap[*maskNode]) (any, bool) {
	if !jsTruthy(v) || mask == nil {
		return v, true
	}
	var out any
	switch v.(type) {
	case map[string]any:
		out = map[string]any{}
	case []any:
		out = &jsArray{}
	default:
		// A truthy primitive: json-mask finds none of the names on it (or
		// throws when it does, as for "length" on a string).
		return nil, false
	}
	for _, key := range mask.keys() {
		node, _ := mask.get(key)
		if key == "*" {
			for _, k := range ownKeys(v) {
				if r, ok := maskValue(v, k, node); ok {
					assign(out, k, r)
				}
			}
			continue
		}
		if r, ok := maskValue(v, key, node); ok {
			assign(out, key, r)
		}
	}
	if a, isArr := out.(*jsArray); isArr {
		return toGo(a), true
	}
	return out, true
}

// maskValue applies node to the property key of container (json-mask's
// _object or _array, by the node's type).
func maskValue(container any, key string, node *maskNode) (any, bool) {
	val, present := ownProp(container, key)
	arr, isArr := val.([]any)
	if !node.array && !isArr {
		if node.props == nil {
			return val, present
		}
		if !present {
			return nil, false
		}
		return maskProperties(val, node.props)
	}
	// _array
	if !isArr {
		if !present {
			return nil, false
		}
		return maskProperties(val, node.props)
	}
	if len(arr) == 0 {
		return arr, true
	}
	out := make([]any, 0, len(arr))
	for _, e := range arr {
		if _, hole := e.(jsHole); hole {
			continue // undefined: never kept
		}
		if r, ok := maskProperties(e, node.props); ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	return out, true
}

// ownProp is container[key] for own properties (JavaScript's inherited
// properties such as "constructor" are not looked at).
func ownProp(container any, key string) (any, bool) {
	switch c := container.(type) {
	case map[string]any:
		v, ok := c[key]
		return v, ok
	case []any:
		if key == "length" {
			return float64(len(c)), true
		}
		if i := arrayIndex(key); i >= 0 && i < int64(len(c)) {
			if _, hole := c[i].(jsHole); !hole {
				return c[i], true
			}
		}
	}
	return nil, false
}

// ownKeys lists a container's keys in JavaScript order (for "*").
func ownKeys(container any) []string {
	switch c := container.(type) {
	case map[string]any:
		return objectKeys(c)
	case []any:
		keys := make([]string, 0, len(c))
		for i, e := range c {
			if _, hole := e.(jsHole); !hole {
				keys = append(keys, fmt.Sprint(i))
			}
		}
		return keys
	}
	return nil
}

func assign(out any, key string, v any) {
	switch o := out.(type) {
	case map[string]any:
		o[key] = v
	case *jsArray:
		setProp(o, jsKey{s: key}, v)
	}
}

// filterMessage is dojot's ProcessingRule.js and the send decision of
// WSServer.js: the where conditions, then the fields mask, each skipped once
// the message is empty; the result is sent unless it is an empty object or
// array (a failed condition leaves an empty object).
func filterMessage(w *Where, f *Fields, v any) (any, bool) {
	v, ok := w.Apply(v)
	if !ok || isEmptyValue(v) {
		return nil, false
	}
	if v, ok = f.Apply(v); !ok || v == nil || isEmptyValue(v) {
		return nil, false
	}
	return v, true
}

// isEmptyValue is an object or array without elements; messages are always
// one or the other.
func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
