package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem in a configuration, located by file, line and
// key path. Line is 0 and File "" when unknown (for example when a Config
// built in code is validated). Msg never contains a secret or the value of
// an expanded environment variable.
type FieldError struct {
	File string
	Line int
	// Col is the 1-based column, or 0 when unknown (set for problems
	// inside a mapping file).
	Col  int
	Path string
	Msg  string
}

// Error formats the problem as "file:line: path: msg", omitting unknown parts.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0 && e.Col > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": ")
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration, sorted by line. It is
// the error type returned by Parse, Load and Validate for content problems.
type Errors struct {
	List []*FieldError
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, fe := range e.List {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.Is and errors.As.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, fe := range e.List {
		out[i] = fe
	}
	return out
}

// finish scrubs secrets from errs, sorts them by line, removes duplicates
// and keeps at most maxErrors of them.
func (c *Config) finish(errs []*FieldError) *Errors {
	slices.SortStableFunc(errs, func(a, b *FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Msg, b.Msg))
	})
	errs = slices.CompactFunc(errs, func(a, b *FieldError) bool {
		return a.Line == b.Line && a.Path == b.Path && a.Msg == b.Msg
	})
	if n := len(errs); n > maxErrors {
		errs = append(errs[:maxErrors:maxErrors], &FieldError{File: c.File, Msg: "and " + strconv.Itoa(n-maxErrors) + " more problems; fix the ones above first"})
	}
	secrets := c.secretValues()
	for _, e := range errs {
		e.Msg = scrub(e.Msg, secrets)
		e.Path = scrub(e.Path, secrets)
	}
	return &Errors{List: errs}
}

// scrub is a safety net behind the per-path rules that keep secrets out of
// messages: it replaces every quoted occurrence of a secret value, and
// every occurrence of one at least minScrubLen long (shorter ones would
// mangle ordinary words).
func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		if v == "" {
			continue
		}
		if q := strconv.Quote(v); strings.Contains(s, q) {
			s = strings.ReplaceAll(s, q, strconv.Quote(redactedText))
		}
		if len(v) >= minScrubLen && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, redactedText)
		}
	}
	return s
}
