package kafkaws

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/coder/websocket"
)

// Limits on a `where` expression, so that one URL cannot make the server do
// unbounded work per message.
const (
	maxWhereLen     = 8192
	maxConditions   = 64
	maxValues       = 256
	maxSelectorPath = 32
)

// Operators of `where` conditions.
const (
	opEq   = ""
	opIn   = "in"
	opNin  = "nin"
	opNeq  = "neq"
	opGt   = "gt"
	opGte  = "gte"
	opLt   = "lt"
	opLte  = "lte"
	opBool = "bool"
)

func knownOperator(s string) bool {
	switch s {
	case opIn, opNin, opNeq, opGt, opGte, opLt, opLte, opBool:
		return true
	}
	return false
}

// Where is a parsed `where` parameter: conditions that must all hold for a
// message to be sent. The zero Where (no conditions) keeps every message.
// A Where is immutable and safe for concurrent use.
//
// Grammar (after URL decoding; see the package documentation for the
// semantics):
//
//	where     = *condition
//	condition = selector "=" [ operator ":" ] values ";"
//	selector  = name *( "." name )
//	name      = 1*( ALPHA / DIGIT / "_" / "-" / "$" / "@" )
//	operator  = "in" / "nin" / "neq" / "gt" / "gte" / "lt" / "lte" / "bool"
//	values    = value *( "," value )
//	value     = *( any character but "\" "," ";" "=" / escape )
//	escape    = "\" ( "\" / "," / ";" / ":" / "=" )
type Where struct {
	conds []condition
}

type condition struct {
	path []string
	op   string
	vals []operand
}

// operand is one value of a condition, pre-parsed as a number when it is
// one.
type operand struct {
	text  string
	isNum bool
	num   number
	bool  bool // for the bool operator
}

// number is a decimal kept as int64 when it is an integer that fits, else
// as float64.
type number struct {
	isInt bool
	i     int64
	f     float64
}

// Len returns the number of conditions.
func (w *Where) Len() int {
	if w == nil {
		return 0
	}
	return len(w.conds)
}

// ParseWhere parses a `where` parameter (already URL-decoded). An empty
// string gives a Where that keeps every message. A bad expression fails
// with a *FilterError carrying the close code (4000-4004) and the offset
// of the problem.
func ParseWhere(s string) (*Where, error) {
	w := &Where{}
	if len(s) > maxWhereLen {
		return nil, whereErr(CodeInvalidSyntax, maxWhereLen, "longer than %d bytes", maxWhereLen)
	}
	i := 0
	for i < len(s) {
		if len(w.conds) == maxConditions {
			return nil, whereErr(CodeInvalidSyntax, i, "more than %d conditions", maxConditions)
		}
		c, next, err := parseCondition(s, i)
		if err != nil {
			return nil, err
		}
		w.conds = append(w.conds, c)
		i = next
	}
	return w, nil
}

func whereErr(code websocket.StatusCode, off int, format string, args ...any) *FilterError {
	return &FilterError{Code: code, Param: "where", Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$' || c == '@'
}

// parseCondition parses one condition starting at s[i] and returns it and
// the offset after its ';'.
func parseCondition(s string, i int) (condition, int, error) {
	var c condition
	start := i
	// selector
	for {
		j := i
		for j < len(s) && isNameChar(s[j]) {
			j++
		}
		if j == i {
			switch {
			case j == len(s):
				return c, 0, whereErr(CodeInvalidSyntax, j, "expected a field name, found the end")
			case s[j] == '.' || s[j] == '=':
				return c, 0, whereErr(CodeInvalidSyntax, j, "empty field name before %q", s[j])
			default:
				return c, 0, whereErr(CodeInvalidSyntax, j, "unexpected %s in field name (allowed: letters, digits, _ - $ @)", quoteShort(s[j:j+1], 4))
			}
		}
		if len(c.path) == maxSelectorPath {
			return c, 0, whereErr(CodeInvalidSyntax, i, "selector deeper than %d levels", maxSelectorPath)
		}
		c.path = append(c.path, s[i:j])
		i = j
		if i == len(s) {
			return c, 0, whereErr(CodeInvalidSyntax, i, "condition %s has no '='", quoteShort(s[start:i], 24))
		}
		if s[i] == '.' {
			i++
			continue
		}
		if s[i] == '=' {
			i++
			break
		}
		return c, 0, whereErr(CodeInvalidSyntax, i, "unexpected %s in field name (allowed: letters, digits, _ - $ @)", quoteShort(s[i:i+1], 4))
	}
	// optional operator: letters followed by ':'
	j := i
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	if j < len(s) && s[j] == ':' {
		op := s[i:j]
		if !knownOperator(op) {
			if op == "" {
				return c, 0, whereErr(CodeInvalidOperator, j, "empty operator before ':' (allowed: in, nin, neq, gt, gte, lt, lte, bool; escape a literal ':' as \\:)")
			}
			return c, 0, whereErr(CodeInvalidOperator, i, "unknown operator %s (allowed: in, nin, neq, gt, gte, lt, lte, bool)", quoteShort(op, 16))
		}
		c.op = op
		i = j + 1
	}
	opAt := i
	// values up to the unescaped ';'
	var b strings.Builder
	var texts []string
	for {
		if i == len(s) {
			return c, 0, whereErr(CodeInvalidSyntax, i, "condition on %s must end with ';'", quoteShort(strings.Join(c.path, "."), 32))
		}
		ch := s[i]
		switch ch {
		case '\\':
			if i+1 == len(s) {
				return c, 0, whereErr(CodeInvalidEscape, i, "'\\' at the end (escapes: \\\\ \\, \\; \\: \\=)")
			}
			switch e := s[i+1]; e {
			case '\\', ',', ';', ':', '=':
				b.WriteByte(e)
				i += 2
			default:
				return c, 0, whereErr(CodeInvalidEscape, i, "unsupported escape %s (escapes: \\\\ \\, \\; \\: \\=)", quoteShort(s[i:min(i+2, len(s))], 4))
			}
			continue
		case '=':
			return c, 0, whereErr(CodeInvalidSyntax, i, "unescaped '=' in a value (write \\=) or missing ';' before the next condition")
		case ',', ';':
			if len(texts) == maxValues {
				return c, 0, whereErr(CodeInvalidArity, i, "more than %d values", maxValues)
			}
			texts = append(texts, b.String())
			b.Reset()
			i++
			if ch == ';' {
				return c, i, c.setValues(texts, opAt)
			}
			continue
		}
		b.WriteByte(ch)
		i++
	}
}

// setValues checks arity and types of texts for c.op and stores them.
func (c *condition) setValues(texts []string, at int) error {
	opName := c.op
	if opName == opEq {
		opName = "equality"
	}
	switch c.op {
	case opIn, opNin:
	default:
		if len(texts) != 1 {
			return whereErr(CodeInvalidArity, at, "%s takes exactly 1 value, got %d (in and nin take a list)", opName, len(texts))
		}
	}
	c.vals = make([]operand, len(texts))
	for k, t := range texts {
		o := operand{text: t}
		o.num, o.isNum = parseNumber(t)
		switch c.op {
		case opGt, opGte, opLt, opLte:
			if t == "" {
				return whereErr(CodeInvalidValue, at, "%s needs a number or a text to compare with, got an empty value", opName)
			}
		case opBool:
			switch t {
			case "true", "1":
				o.bool = true
			case "false", "0":
			default:
				return whereErr(CodeInvalidValue, at, "bool takes true, false, 1 or 0, got %s", quoteShort(t, 24))
			}
		}
		c.vals[k] = o
	}
	return nil
}

// parseNumber parses a JSON-style decimal: optional sign, digits, optional
// fraction and exponent. Hex, "Inf", "NaN" and underscores are not numbers.
func parseNumber(s string) (number, bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	isInt := true
	if i < len(s) && s[i] == '.' {
		isInt = false
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return number{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isInt = false
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		e := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			e++
		}
		if e == 0 {
			return number{}, false
		}
	}
	if i != len(s) {
		return number{}, false
	}
	if isInt {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{isInt: true, i: v, f: float64(v)}, true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) || math.IsInf(f, 0) || math.IsNaN(f) {
		return number{}, false
	}
	return number{f: f}, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// numberOf returns v as a number if it is a JSON or Avro number.
func numberOf(v any) (number, bool) {
	switch x := v.(type) {
	case json.Number:
		return parseNumber(string(x))
	case int64:
		return number{isInt: true, i: x, f: float64(x)}, true
	case int:
		return number{isInt: true, i: int64(x), f: float64(x)}, true
	case int32:
		return number{isInt: true, i: int64(x), f: float64(x)}, true
	case float64:
		if math.IsNaN(x) {
			return number{}, false
		}
		return number{f: x}, true
	case float32:
		return number{f: float64(x)}, true
	}
	return number{}, false
}

func cmpNumber(a, b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	return 0
}

// Match reports whether every condition holds for the message value v.
func (w *Where) Match(v any) bool {
	if w == nil {
		return true
	}
	for i := range w.conds {
		if !w.conds[i].holds(v) {
			return false
		}
	}
	return true
}

// lookup follows path through objects (and array indexes for numeric
// names).
func lookup(v any, path []string) (any, bool) {
	for _, name := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[name]; !ok {
				return nil, false
			}
		case []any:
			n, err := strconv.Atoi(name)
			if err != nil || n < 0 || n >= len(x) || name != strconv.Itoa(n) {
				return nil, false
			}
			v = x[n]
		default:
			return nil, false
		}
	}
	return v, true
}

func (c *condition) holds(msg any) bool {
	v, ok := lookup(msg, c.path)
	if !ok {
		return false // a missing field fails every condition
	}
	switch c.op {
	case opNeq:
		return !c.any(v, opEq)
	case opNin:
		return !c.any(v, opIn)
	}
	return c.any(v, c.op)
}

// any reports whether the positive operator op holds for v, or for any
// element when v is an array.
func (c *condition) any(v any, op string) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if c.scalar(e, op) {
				return true
			}
		}
		return false
	}
	return c.scalar(v, op)
}

func (c *condition) scalar(v any, op string) bool {
	switch op {
	case opEq, opIn:
		for i := range c.vals {
			if equal(v, &c.vals[i]) {
				return true
			}
		}
		return false
	case opBool:
		want := c.vals[0].bool
		switch x := v.(type) {
		case bool:
			return x == want
		default:
			if n, ok := numberOf(v); ok && (n.f == 0 || n.f == 1) {
				return (n.f == 1) == want
			}
		}
		return false
	}
	r, ok := compare(v, &c.vals[0])
	if !ok {
		return false
	}
	switch op {
	case opGt:
		return r > 0
	case opGte:
		return r >= 0
	case opLt:
		return r < 0
	case opLte:
		return r <= 0
	}
	return false
}

// equal is equality between a message value and a condition value, typed
// by the message value.
func equal(v any, o *operand) bool {
	switch x := v.(type) {
	case string:
		return x == o.text
	case bool:
		return o.text == strconv.FormatBool(x)
	case nil:
		return o.text == "null"
	}
	if n, ok := numberOf(v); ok {
		return o.isNum && cmpNumber(n, o.num) == 0
	}
	return false
}

// compare orders a message value against a condition value: numbers
// numerically (a string field holding a decimal counts as a number when
// the condition value is one), other strings byte-wise. ok is false when
// the two cannot be ordered.
func compare(v any, o *operand) (int, bool) {
	if s, isStr := v.(string); isStr {
		if o.isNum {
			if n, ok := parseNumber(s); ok {
				return cmpNumber(n, o.num), true
			}
			return 0, false
		}
		return strings.Compare(s, o.text), true
	}
	if n, ok := numberOf(v); ok && o.isNum {
		return cmpNumber(n, o.num), true
	}
	return 0, false
}
