package kafkaws

import (
	"math"
	"sort"
	"strconv"
)

// flatten and unflatten follow the npm package flat 5 (flatten(data) and
// flat.unflatten(data) with the default options), which dojot's
// ConditionApplier.js applies around every condition. JavaScript orders an
// object's keys with array indexes first (ascending), then the others in
// insertion order; Go maps keep no insertion order, so those other keys are
// taken in byte order, which only matters when two spellings collide
// ({"a.b":1,"a":{"b":2}}).

// ordMap is a JavaScript object's own properties: keys in JavaScript
// property order.
type ordMap[V any] struct {
	idx  []string // array-index keys
	str  []string // other keys, in insertion order
	vals map[string]V
}

// flatMap is a flattened message.
type flatMap = ordMap[any]

func newOrdMap[V any]() *ordMap[V] { return &ordMap[V]{vals: map[string]V{}} }

func (m *ordMap[V]) get(k string) (V, bool) {
	v, ok := m.vals[k]
	return v, ok
}

func (m *ordMap[V]) set(k string, v V) {
	if _, ok := m.vals[k]; !ok {
		if arrayIndex(k) >= 0 {
			m.idx = append(m.idx, k)
		} else {
			m.str = append(m.str, k)
		}
	}
	m.vals[k] = v
}

// keys returns the keys in JavaScript order.
func (m *ordMap[V]) keys() []string {
	sort.Slice(m.idx, func(i, j int) bool { return arrayIndex(m.idx[i]) < arrayIndex(m.idx[j]) })
	return append(append(make([]string, 0, len(m.idx)+len(m.str)), m.idx...), m.str...)
}

// arrayIndex returns the value of a canonical array index key ("0", "17";
// not "01" or "-1"), or -1.
func arrayIndex(k string) int64 {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return -1
	}
	n, err := strconv.ParseInt(k, 10, 64)
	if err != nil || n < 0 || n >= math.MaxUint32 {
		return -1
	}
	return n
}

// objectKeys returns the keys of a JSON object in the order used here.
func objectKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := arrayIndex(keys[i]), arrayIndex(keys[j])
		switch {
		case a >= 0 && b >= 0:
			return a < b
		case a >= 0 || b >= 0:
			return a >= 0
		}
		return keys[i] < keys[j]
	})
	return keys
}

// flatten maps every leaf of v (a value that is not a non-empty object or
// array) to its path joined with '.'.
func flatten(v any) *flatMap {
	m := newOrdMap[any]()
	var step func(v any, prev string)
	visit := func(key string, val any, prev string) {
		nk := key
		if prev != "" { // flat tests prev for truthiness
			nk = prev + "." + key
		}
		switch x := val.(type) {
		case map[string]any:
			if len(x) > 0 {
				step(x, nk)
				return
			}
		case []any:
			if len(x) > 0 {
				step(x, nk)
				return
			}
		}
		m.set(nk, val)
	}
	step = func(v any, prev string) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range objectKeys(x) {
				visit(k, x[k], prev)
			}
		case []any:
			for i, e := range x {
				if _, hole := e.(jsHole); !hole { // Object.keys skips holes
					visit(strconv.Itoa(i), e, prev)
				}
			}
		}
	}
	step(v, "")
	return m
}

// JavaScript containers built by unflatten.
type jsObject struct {
	keys *flatMap
}

type jsArray struct {
	elems []any          // jsHole for holes
	props map[string]any // non-index properties: JSON.stringify drops them
}

// jsHole is an array element never assigned. It is undefined to later
// conditions and to the fields mask (json-mask drops it), and null in the
// JSON sent, as JSON.stringify writes it.
type jsHole struct{}

// MarshalJSON writes a hole as null.
func (jsHole) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// maxRebuiltArray bounds the arrays unflatten creates from numeric keys
// ("a.99999999" would otherwise allocate a huge array).
const maxRebuiltArray = 1 << 16

// jsKey is a property key as flat's getkey makes it: a number when
// Number(key) is not NaN, else the string.
type jsKey struct {
	s     string
	n     float64
	isNum bool
}

func getKey(k string) jsKey {
	if n := jsNumber(k); !math.IsNaN(n) {
		return jsKey{s: k, n: n, isNum: true}
	}
	return jsKey{s: k}
}

// propName is the property name JavaScript uses for k.
func (k jsKey) propName() string {
	if k.isNum {
		return jsNumberString(k.n)
	}
	return k.s
}

func getProp(container any, k jsKey) (any, bool) {
	switch c := container.(type) {
	case *jsObject:
		return c.keys.get(k.propName())
	case *jsArray:
		name := k.propName()
		if i := arrayIndex(name); i >= 0 {
			if i < int64(len(c.elems)) {
				if _, hole := c.elems[i].(jsHole); !hole {
					return c.elems[i], true
				}
			}
			return nil, false
		}
		v, ok := c.props[name]
		return v, ok
	}
	return nil, false
}

func setProp(container any, k jsKey, v any) {
	switch c := container.(type) {
	case *jsObject:
		c.keys.set(k.propName(), v)
	case *jsArray:
		name := k.propName()
		if i := arrayIndex(name); i >= 0 && i < maxRebuiltArray {
			for int64(len(c.elems)) <= i {
				c.elems = append(c.elems, jsHole{})
			}
			c.elems[i] = v
			return
		}
		if c.props == nil {
			c.props = map[string]any{}
		}
		c.props[name] = v
	}
}

func newJSObject() *jsObject { return &jsObject{keys: newOrdMap[any]()} }

// leafValue is unflatten(leaf): empty objects and arrays become containers
// later keys may write into.
func leafValue(v any) any {
	switch v.(type) {
	case map[string]any:
		return newJSObject()
	case []any:
		return &jsArray{}
	}
	return v
}

// unflatten rebuilds a message from its flattened form: keys are split at
// '.', a part that Number() accepts is a number (so "a.0" and also "a.01",
// "a. " make arrays), a key under a path that already holds a primitive
// (null included) is dropped, and "__proto__" parts are dropped.
func unflatten(fm *flatMap) any {
	result := newJSObject()
	for _, key := range fm.keys() {
		split := splitDots(key)
		key1 := getKey(split[0])
		split = split[1:]
		var recipient any = result
		drop := false
		for len(split) > 0 {
			key2 := getKey(split[0])
			if !key1.isNum && key1.s == "__proto__" {
				drop = true
				break
			}
			cur, present := getProp(recipient, key1)
			_, isObj := cur.(*jsObject)
			_, isArr := cur.(*jsArray)
			if !isObj && !isArr && present {
				drop = true // do not write over a primitive, null included
				break
			}
			if !present {
				if key2.isNum {
					cur = &jsArray{}
				} else {
					cur = newJSObject()
				}
				setProp(recipient, key1, cur)
			}
			recipient = cur
			key1 = key2
			split = split[1:]
		}
		if drop || !key1.isNum && key1.s == "__proto__" {
			continue
		}
		v, _ := fm.get(key)
		setProp(recipient, key1, leafValue(v))
	}
	return toGo(result)
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// toGo converts the JavaScript containers to JSON-shaped Go values; holes
// stay jsHole.
func toGo(v any) any {
	switch c := v.(type) {
	case *jsObject:
		out := make(map[string]any, len(c.keys.vals))
		for k, e := range c.keys.vals {
			out[k] = toGo(e)
		}
		return out
	case *jsArray:
		out := make([]any, len(c.elems))
		for i, e := range c.elems {
			out[i] = toGo(e)
		}
		return out
	}
	return v
}
