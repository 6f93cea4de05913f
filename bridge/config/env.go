package config

import (
	"slices"
	"strconv"
	"strings"
)

// expansion is the result of expanding one scalar.
type expansion struct {
	value string
	vars  []string // variables referenced, in order (with duplicates removed)
	errs  []string // problems; never contain a variable's value
}

// expand replaces ${NAME} with the variable's value, ${NAME:-default} with
// the value or, when it is unset or empty, default, and $$ with $. Any other
// $ is kept literally. The result is not expanded again, so a value may
// itself contain "${". An unset variable without default, an unterminated
// reference and an invalid name are errors.
func expand(s string, lookup func(string) (string, bool)) expansion {
	if !strings.Contains(s, "$") {
		return expansion{value: s}
	}
	var (
		x expansion
		b strings.Builder
	)
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i += 2
			continue
		}
		if i+1 >= len(s) || s[i+1] != '{' {
			b.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			x.errs = append(x.errs, "unterminated ${ at offset "+strconv.Itoa(i)+"; write $$ for a literal $")
			break
		}
		body := s[i+2 : i+2+end]
		i += 2 + end + 1
		name, def, hasDef := strings.Cut(body, ":-")
		if !validEnvName(name) {
			x.errs = append(x.errs, "invalid environment variable name in ${...}: want letters, digits and _ not starting with a digit, optionally followed by :-default; write $$ for a literal $")
			continue
		}
		if !slices.Contains(x.vars, name) {
			x.vars = append(x.vars, name)
		}
		v, ok := lookup(name)
		switch {
		case hasDef && (!ok || v == ""):
			v = def
		case !ok:
			x.errs = append(x.errs, "environment variable "+name+" is not set (use ${"+name+":-default} to give a default)")
			continue
		}
		b.WriteString(v)
	}
	x.value = b.String()
	return x
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
