package kafkaws

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/coder/websocket"
)

// Limits on a `where` expression, so that one URL cannot make the server do
// unbounded work per message (dojot has none).
const (
	maxWhereLen   = 8192
	maxConditions = 64
	maxValues     = 256
)

// Operators of `where` conditions (dojot's Utils.js). A condition without
// an operator is eq.
const (
	opEq   = "eq"
	opNeq  = "neq"
	opGt   = "gt"
	opGte  = "gte"
	opLt   = "lt"
	opLte  = "lte"
	opIn   = "in"
	opNin  = "nin"
	opBool = "bool"
)

func numericOp(op string) bool {
	switch op {
	case opEq, opNeq, opGt, opGte, opLt, opLte:
		return true
	}
	return false
}

func knownOperator(op string) bool {
	return numericOp(op) || op == opIn || op == opNin || op == opBool
}

// Where is a parsed `where` parameter: conditions that must all hold for a
// message to be sent, with dojot kafka-ws semantics (see ParseWhere and
// Apply). The zero Where keeps every message unchanged. A Where is
// immutable and safe for concurrent use.
type Where struct {
	conds []condition
}

type condition struct {
	param string           // key of the flattened message, compared exactly
	op    string           // one of the op constants
	num   float64          // numeric operators: Number(value)
	res   []*regexp.Regexp // in, nin: one per value; nil never matches
	b     bool             // bool
}

// Len returns the number of conditions.
func (w *Where) Len() int {
	if w == nil {
		return 0
	}
	return len(w.conds)
}

func whereErr(code websocket.StatusCode, off int, format string, args ...any) *FilterError {
	return &FilterError{Code: code, Param: "where", Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Token kinds of dojot's moo lexer (Lexer.js), tried in this order at every
// position: the first that matches wins.
const (
	tokParam  = iota + 1 // [a-zA-Z0-9 _-][.[a-zA-Z0-9 _-]*]*=
	tokOp                // [a-z]+:
	tokValues            // .+?;
)

type whereToken struct {
	kind  int
	text  string // without the trailing '=', ':' or ';'
	start int
	end   int
}

func isParamFirst(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '_' || c == '-'
}

func isParamRest(c byte) bool { return isParamFirst(c) || c == '.' || c == '[' }

// lineTerminatorAt reports whether s[i:] starts with a JavaScript line
// terminator, which '.' does not match, and its length.
func lineTerminatorAt(s string, i int) (bool, int) {
	switch {
	case s[i] == '\n' || s[i] == '\r':
		return true, 1
	case strings.HasPrefix(s[i:], "\u2028") || strings.HasPrefix(s[i:], "\u2029"):
		return true, 3
	}
	return false, 0
}

// lex returns the token at s[i], as dojot's lexer does. dojot's parameter
// rule needs two characters before '='; with short, a one-character
// selector is taken too (the documented grammar allows it). ParseWhere asks
// for that only where a condition starts, where dojot's lexer would produce
// a values token that cannot parse.
func lex(s string, i int, short bool) (whereToken, error) {
	// parameter
	if isParamFirst(s[i]) && (short || i+1 < len(s) && isParamRest(s[i+1])) {
		j := i + 1
		for j < len(s) && isParamRest(s[j]) {
			j++
		}
		for j < len(s) && s[j] == ']' {
			j++
		}
		if j < len(s) && s[j] == '=' {
			return whereToken{tokParam, s[i:j], i, j + 1}, nil
		}
	}
	// operator
	j := i
	for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
		j++
	}
	if j > i && j < len(s) && s[j] == ':' {
		op := s[i:j]
		if !knownOperator(op) {
			return whereToken{}, whereErr(CodeInvalidOperator, i, "unknown operator %s (allowed: eq, neq, gt, gte, lt, lte, in, nin, bool)", quoteShort(op, 16))
		}
		return whereToken{tokOp, op, i, j + 1}, nil
	}
	// values: at least one character, up to the first ';' after it, on one line
	if lt, _ := lineTerminatorAt(s, i); !lt {
		for k := i + 1; k < len(s); k++ {
			if s[k] == ';' {
				return whereToken{tokValues, s[i:k], i, k + 1}, nil
			}
			if lt, _ := lineTerminatorAt(s, k); lt {
				break
			}
		}
	}
	return whereToken{}, whereErr(CodeInvalidSyntax, i, "invalid syntax at %s (a condition is selector=[operator:]values;)", quoteShort(s[i:], 12))
}

type rawCond struct {
	param  string
	op     string
	values string
	at     int // offset of the values
}

// ParseWhere parses a `where` parameter (already URL-decoded) the way
// dojot's WhereParser.js does, and fails with a *FilterError carrying the
// close code: 4000 when the text does not lex or parse (Grammar.ne,
// Lexer.js), 4001 for an unknown operator (found while lexing); then each
// condition, left to right, is checked for escapes in quoted values (4002),
// arity (4003) and the values' type (4004), and the first error wins. An
// empty string keeps every message.
func ParseWhere(s string) (*Where, error) {
	if len(s) > maxWhereLen {
		return nil, whereErr(CodeInvalidSyntax, maxWhereLen, "longer than %d bytes", maxWhereLen)
	}
	var raws []rawCond
	var cur rawCond
	state := 0 // 0: before a condition, 1: after its selector, 2: after its operator
	for i := 0; i < len(s); {
		t, err := lex(s, i, state == 0)
		if err != nil {
			return nil, err
		}
		switch {
		case state == 0 && t.kind == tokParam:
			if len(raws) == maxConditions {
				return nil, whereErr(CodeInvalidSyntax, i, "more than %d conditions", maxConditions)
			}
			cur = rawCond{param: t.text, op: opEq}
			state = 1
		case state == 1 && t.kind == tokOp:
			cur.op = t.text
			state = 2
		case (state == 1 || state == 2) && t.kind == tokValues:
			cur.values, cur.at = t.text, t.start
			raws = append(raws, cur)
			state = 0
		default:
			return nil, whereErr(CodeInvalidSyntax, i, "unexpected %s %s", tokenName(t.kind), quoteShort(s[t.start:t.end], 24))
		}
		i = t.end
	}
	if state != 0 {
		return nil, whereErr(CodeInvalidSyntax, len(s), "condition on %s must end with values and ';'", quoteShort(cur.param, 32))
	}
	w := &Where{conds: make([]condition, 0, len(raws))}
	for _, r := range raws {
		c, err := r.condition()
		if err != nil {
			return nil, err
		}
		w.conds = append(w.conds, c)
	}
	return w, nil
}

func tokenName(kind int) string {
	switch kind {
	case tokParam:
		return "selector"
	case tokOp:
		return "operator"
	}
	return "values"
}

// condition checks and converts the values of r (WhereParser.js
// processCondition, OperatorValidator.js).
func (r rawCond) condition() (condition, error) {
	c := condition{param: r.param, op: r.op}
	vals, err := separateValues(r.values, r.at)
	if err != nil {
		return c, err
	}
	if len(vals) > maxValues {
		return c, whereErr(CodeInvalidArity, r.at, "more than %d values", maxValues)
	}
	switch {
	case numericOp(r.op):
		if len(vals) != 1 {
			return c, whereErr(CodeInvalidArity, r.at, "%s takes exactly 1 value, got %d (in and nin take a list)", r.op, len(vals))
		}
		c.num = jsNumber(vals[0])
		if !finite(c.num) {
			return c, whereErr(CodeInvalidValue, r.at, "%s takes a number, got %s", r.op, quoteShort(vals[0], 24))
		}
	case r.op == opBool:
		if len(vals) != 1 {
			return c, whereErr(CodeInvalidArity, r.at, "bool takes exactly 1 value, got %d", len(vals))
		}
		b, ok := parseBoolean(vals[0])
		if !ok {
			return c, whereErr(CodeInvalidValue, r.at, "bool takes true, false, 1 or 0, got %s", quoteShort(vals[0], 24))
		}
		c.b = b
	default: // in, nin: JavaScript regular expressions
		c.res = make([]*regexp.Regexp, len(vals))
		for k, v := range vals {
			re, err := compileJSRegexp(v)
			var unsup *jsRegexpUnsupported
			switch {
			case errors.As(err, &unsup):
				return c, whereErr(CodeInvalidValue, r.at, "%s value %s: %v", r.op, quoteShort(v, 24), err)
			case err == nil:
				c.res[k] = re
			}
		}
	}
	return c, nil
}

// parseBoolean is dojot's Utils.parseBoolean for a string: true or 1,
// false or 0, ignoring case and surrounding white space.
func parseBoolean(s string) (bool, bool) {
	if s == "" {
		return false, false
	}
	switch strings.TrimFunc(strings.ToLower(s), jsWhite) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// separateValues splits the values of a condition (WhereParser.js
// separateValues). Without a '"' they are split at every ','. Otherwise the
// double-quoted values come first, with their escapes resolved, then the
// unquoted ones, with empty ones left out.
func separateValues(values string, at int) ([]string, error) {
	if !strings.Contains(values, `"`) {
		return strings.Split(values, ","), nil
	}
	quoted := extractQuotedValues(values)
	rest := values
	for _, q := range quoted {
		rest = strings.Replace(rest, `"`+q+`"`, "", 1)
	}
	out := make([]string, 0, len(quoted)+1)
	for _, q := range quoted {
		e, err := escapeString(q, at)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	for _, u := range strings.Split(rest, ",") {
		if u != "" {
			out = append(out, u)
		}
	}
	return out, nil
}

// extractQuotedValues returns the raw text of the double-quoted values. A
// value ends at a '"' that does not follow a backslash (and is not the
// second character of the values).
func extractQuotedValues(values string) []string {
	var out []string
	start := -1 // index of the opening quote
	for i := 0; i < len(values); i++ {
		if start >= 0 {
			if values[i] == '"' && i-1 > 0 && values[i-1] != '\\' {
				out = append(out, values[start+1:i])
				start = -1
			}
			continue
		}
		if values[i] == '"' {
			start = i
		}
	}
	return out
}

// escapeString resolves the escapes of a quoted value: \b \f \n \r \t are
// control characters, another letter is an error (4002), and anything else
// stands for itself.
func escapeString(v string, at int) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 == len(v) {
			return "", whereErr(CodeInvalidEscape, at, `'\' at the end of a quoted value`)
		}
		e := v[i+1]
		i++
		if e >= 'a' && e <= 'z' || e >= 'A' && e <= 'Z' {
			switch e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				return "", whereErr(CodeInvalidEscape, at, `unsupported escape "\%c" in a quoted value (letters: \b \f \n \r \t)`, e)
			}
			continue
		}
		b.WriteByte(e)
	}
	return b.String(), nil
}

// Apply runs the conditions on a message, in order, the way dojot's
// ConditionApplier.js does: each flattens the message (nested keys joined
// with '.', array elements as "arr.0"), tests the value under its selector
// key, and on success rebuilds the message from the flattened form (which
// turns dotted keys into nested objects and numeric keys into arrays). ok
// is false when a condition fails. Without conditions v is returned as it
// is.
func (w *Where) Apply(v any) (any, bool) {
	if w == nil {
		return v, true
	}
	for i := range w.conds {
		fm := flatten(v)
		if !w.conds[i].holds(fm) {
			return nil, false
		}
		v = unflatten(fm)
	}
	return v, true
}

// holds tests one condition on a flattened message (Conditions.js).
// Numeric operators need a value present that is not null, false or "" and
// whose Number() is finite. in holds when the value is truthy and one of
// the patterns matches String(value), nin when none does or the value is
// missing or falsy; the patterns are tried in order, and reaching one that
// JavaScript refuses drops the message (dojot's match() throws). bool needs
// a value that parses as a boolean.
func (c *condition) holds(fm *flatMap) bool {
	v, ok := fm.get(c.param)
	switch {
	case numericOp(c.op):
		if !ok || !(jsTruthy(v) || isNumberValue(v)) {
			return false
		}
		n := jsToNumber(v)
		if !finite(n) {
			return false
		}
		switch c.op {
		case opEq:
			return n == c.num
		case opNeq:
			return n != c.num
		case opGt:
			return n > c.num
		case opGte:
			return n >= c.num
		case opLt:
			return n < c.num
		}
		return n <= c.num
	case c.op == opBool:
		if !ok || v == nil {
			return false
		}
		if _, isStr := v.(string); !isStr && !isNumberValue(v) {
			if _, isBool := v.(bool); !isBool {
				return false
			}
		}
		b, okb := parseBoolean(jsToString(v))
		return okb && b == c.b
	}
	if !ok || !jsTruthy(v) {
		return c.op == opNin
	}
	s := jsToString(v)
	for _, re := range c.res {
		if re == nil {
			return false // the pattern throws in JavaScript: the message is dropped
		}
		if re.MatchString(s) {
			return c.op == opIn
		}
	}
	return c.op == opNin
}
