package compat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// IncompatibilityType classifies an incompatibility with the names Apache
// Avro and Confluent Schema Registry use.
type IncompatibilityType string

// The incompatibility types.
const (
	// ReaderFieldMissingDefault: a reader record field is absent from the
	// writer record and has no default value.
	ReaderFieldMissingDefault IncompatibilityType = "READER_FIELD_MISSING_DEFAULT_VALUE"
	// TypeMismatch: the writer's type cannot be read, even by promotion, as
	// the reader's type.
	TypeMismatch IncompatibilityType = "TYPE_MISMATCH"
	// NameMismatch: a named type (record, enum, fixed) whose reader name
	// and aliases do not match the writer's name.
	NameMismatch IncompatibilityType = "NAME_MISMATCH"
	// FixedSizeMismatch: two fixed types of different sizes.
	FixedSizeMismatch IncompatibilityType = "FIXED_SIZE_MISMATCH"
	// MissingEnumSymbols: the writer enum has symbols the reader enum lacks,
	// and the reader enum has no default symbol.
	MissingEnumSymbols IncompatibilityType = "MISSING_ENUM_SYMBOLS"
	// MissingUnionBranch: a value the writer may write (a writer union
	// branch, or the writer's type) has no branch in the reader union that
	// can read it.
	MissingUnionBranch IncompatibilityType = "MISSING_UNION_BRANCH"
)

// Incompatibility is one reason why a reader schema cannot read data
// written with a writer schema.
type Incompatibility struct {
	Type IncompatibilityType `json:"type"`
	// Location is a JSON pointer into the reader schema, as Apache Avro and
	// Confluent report it: "/fields/2/type", "/items", "/values",
	// "/symbols", "/name", "/size". Where a writer union branch cannot be
	// read by a reader union, the writer branch index is appended to the
	// reader union's pointer ("/fields/0/type/1").
	Location string `json:"location"`
	// WriterLocation is the JSON pointer of the offending element in the
	// writer schema.
	WriterLocation string `json:"writerLocation"`
	// Message explains the problem in a sentence.
	Message string `json:"message"`
}

// String renders "TYPE at /location: message".
func (i Incompatibility) String() string {
	loc := i.Location
	if loc == "" {
		loc = "/"
	}
	return fmt.Sprintf("%s at %s: %s", i.Type, loc, i.Message)
}

// Check reports every reason why data written with writer cannot be read
// with reader, following the schema resolution rules of the Avro
// specification as Apache Avro's SchemaCompatibility implements them:
//
//   - primitives read themselves; int is promoted to long, float and double,
//     long to float and double, float to double; string and bytes read each
//     other;
//   - records, enums and fixed match when their unqualified names are equal
//     or a reader alias equals the writer's full name (else NAME_MISMATCH);
//     fixed sizes must be equal;
//   - reader record fields are matched to writer fields by name, then by
//     the reader field's aliases; a reader field the writer lacks needs a
//     default; writer fields the reader lacks are skipped;
//   - a writer enum symbol the reader lacks is an error unless the reader
//     enum has a default symbol;
//   - arrays and maps are checked on their items and values;
//   - a writer union is readable when every branch is; a reader union
//     reads a writer type when at least one branch does (else
//     MISSING_UNION_BRANCH; when a reader branch has the writer's record,
//     enum or fixed name but cannot read it, that branch's own
//     incompatibilities follow, located inside it);
//   - logical types are judged on their underlying types.
//
// Recursive schemas are handled: a (reader, writer) pair already being
// checked is assumed compatible where it recurs, and the result of every
// checked pair of named types is reused, so Check runs in time about
// proportional to the size of the two schemas. A nil result means
// compatible. Check does not modify the schemas and is safe for concurrent
// use.
func Check(reader, writer *Schema) []Incompatibility {
	c := &checker{memo: make(map[pair][]Incompatibility)}
	return c.check(reader.root, writer.root)
}

// Compatible reports whether reader can read data written with writer.
func Compatible(reader, writer *Schema) bool { return len(Check(reader, writer)) == 0 }

type pair struct{ r, w *node }

type checker struct {
	// memo holds the result of every (reader, writer) pair of named types
	// checked so far, relative to the pair; nil while in progress.
	memo map[pair][]Incompatibility
}

// check returns the incompatibilities of reading w as r, with locations
// relative to r and w.
func (c *checker) check(r, w *node) []Incompatibility {
	named := r.typ == w.typ && (r.typ == Record || r.typ == Enum || r.typ == Fixed)
	if !named {
		return c.checkNode(r, w)
	}
	k := pair{r, w}
	if res, ok := c.memo[k]; ok {
		// Done, or in progress (nil): a recursive reference, assumed
		// compatible here; any problem is reported where the pair was
		// first met.
		return res
	}
	c.memo[k] = nil
	res := c.checkNode(r, w)
	c.memo[k] = res
	return res
}

func (c *checker) checkNode(r, w *node) []Incompatibility {
	if r.typ == w.typ {
		switch r.typ {
		case Array:
			return prefix(c.check(r.items, w.items), "/items", "/items")
		case Map:
			return prefix(c.check(r.values, w.values), "/values", "/values")
		case Fixed:
			var out []Incompatibility
			if !namesMatch(r, w) {
				out = append(out, nameMismatch(r, w))
			}
			if r.size != w.size {
				out = append(out, Incompatibility{Type: FixedSizeMismatch, Location: "/size", WriterLocation: "/size",
					Message: fmt.Sprintf("fixed %s has size %d in the reader but %d in the writer", r.name, r.size, w.size)})
			}
			return out
		case Enum:
			var out []Incompatibility
			if !namesMatch(r, w) {
				out = append(out, nameMismatch(r, w))
			}
			if !r.hasDef {
				var missing []string
				for _, s := range w.symbols {
					if !slices.Contains(r.symbols, s) {
						missing = append(missing, s)
					}
				}
				if len(missing) > 0 {
					out = append(out, Incompatibility{Type: MissingEnumSymbols, Location: "/symbols", WriterLocation: "/symbols",
						Message: fmt.Sprintf("the writer enum %s has symbol(s) %s that the reader enum lacks, and the reader enum has no default symbol", w.name, strings.Join(missing, ", "))})
				}
			}
			return out
		case Record:
			return c.record(r, w)
		case Union:
			var out []Incompatibility
			for i, wb := range w.branches {
				sub := c.check(r, wb)
				if len(sub) == 0 {
					continue
				}
				// sub[0] is the reader union's MISSING_UNION_BRANCH for
				// this writer branch; Avro and Confluent locate it at the
				// writer branch index. The rest are its causes.
				idx := "/" + strconv.Itoa(i)
				head := sub[0]
				head.Location, head.WriterLocation = idx, idx
				head.Message = fmt.Sprintf("the reader %s has no branch that can read writer union branch %d (%s)%s", r.describe(), i, wb.describe(), causeNote(len(sub)-1))
				out = append(out, head)
				out = append(out, prefix(sub[1:], "", idx)...)
			}
			return out
		}
		return nil // same primitive
	}
	if w.typ == Union {
		// Every branch the writer may have written must be readable.
		var out []Incompatibility
		for i, wb := range w.branches {
			if sub := c.check(r, wb); len(sub) > 0 {
				out = append(out, prefix(sub, "", "/"+strconv.Itoa(i))...)
			}
		}
		return out
	}
	switch r.typ {
	case Long:
		if w.typ == Int {
			return nil
		}
	case Float:
		if w.typ == Int || w.typ == Long {
			return nil
		}
	case Double:
		if w.typ == Int || w.typ == Long || w.typ == Float {
			return nil
		}
	case Bytes:
		if w.typ == String {
			return nil
		}
	case String:
		if w.typ == Bytes {
			return nil
		}
	case Union:
		// The specification resolves the writer's type against the first
		// reader branch that matches it; Avro's checker accepts any
		// readable branch. When none can read it and a branch of the same
		// named type exists, its own incompatibilities are reported too,
		// located inside that branch, so the cause can be found.
		var causes []Incompatibility
		found := false
		for j, rb := range r.branches {
			sub := c.check(rb, w)
			if len(sub) == 0 {
				return nil
			}
			if !found && isNamed(rb) && rb.typ == w.typ && namesMatch(rb, w) {
				found = true
				causes = prefix(sub, "/"+strconv.Itoa(j), "")
			}
		}
		return append([]Incompatibility{{Type: MissingUnionBranch,
			Message: fmt.Sprintf("the reader %s has no branch that can read the writer's %s%s", r.describe(), w.describe(), causeNote(len(causes)))}}, causes...)
	}
	return []Incompatibility{{Type: TypeMismatch,
		Message: fmt.Sprintf("the reader expects %s but the writer wrote %s, which cannot be read as %s", r.describe(), w.describe(), r.short())}}
}

// causeNote points from a MISSING_UNION_BRANCH to the n findings that
// explain it.
func causeNote(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "; the reader branch of the same name cannot read it, see the next finding"
	}
	return fmt.Sprintf("; the reader branch of the same name cannot read it, see the next %d findings", n)
}

func (c *checker) record(r, w *node) []Incompatibility {
	var out []Incompatibility
	if !namesMatch(r, w) {
		out = append(out, nameMismatch(r, w))
	}
	for i, rf := range r.fields {
		wi, ok := w.byName[rf.name]
		if !ok {
			for _, a := range rf.aliases {
				if wi, ok = w.byName[a]; ok {
					break
				}
			}
		}
		if !ok {
			if !rf.hasDefault {
				out = append(out, Incompatibility{Type: ReaderFieldMissingDefault, Location: "/fields/" + strconv.Itoa(i), WriterLocation: "/fields",
					Message: fmt.Sprintf("reader field %q (%s) of record %s is not in the writer record %s and has no default value", rf.name, rf.typ.short(), r.name, w.name)})
			}
			continue
		}
		if sub := c.check(rf.typ, w.fields[wi].typ); len(sub) > 0 {
			out = append(out, prefix(sub, "/fields/"+strconv.Itoa(i)+"/type", "/fields/"+strconv.Itoa(wi)+"/type")...)
		}
	}
	return out
}

func isNamed(n *node) bool { return n.typ == Record || n.typ == Enum || n.typ == Fixed }

// namesMatch applies the specification's rule: equal unqualified names, or a
// reader alias equal to the writer's full name.
func namesMatch(r, w *node) bool {
	if unqualified(r.name) == unqualified(w.name) {
		return true
	}
	return slices.Contains(r.aliases, w.name)
}

func unqualified(full string) string { return full[strings.LastIndexByte(full, '.')+1:] }

func nameMismatch(r, w *node) Incompatibility {
	msg := fmt.Sprintf("the reader %s %s cannot read the writer %s %s: the names differ", r.typ, r.name, w.typ, w.name)
	if len(r.aliases) > 0 {
		msg += " and the reader's aliases (" + strings.Join(r.aliases, ", ") + ") do not include " + w.name
	} else {
		msg += fmt.Sprintf(" and the reader has no aliases (add \"aliases\": [%q] to read it)", w.name)
	}
	return Incompatibility{Type: NameMismatch, Location: "/name", WriterLocation: "/name", Message: msg}
}

// prefix returns a copy of in with rp and wp prepended to the reader and
// writer locations. It never modifies in, which may be memoised.
func prefix(in []Incompatibility, rp, wp string) []Incompatibility {
	if len(in) == 0 {
		return nil
	}
	out := make([]Incompatibility, len(in))
	for i, x := range in {
		x.Location = rp + x.Location
		x.WriterLocation = wp + x.WriterLocation
		out[i] = x
	}
	return out
}
