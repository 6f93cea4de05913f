package compat

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Type is an Avro schema type.
type Type uint8

// The Avro types.
const (
	Null Type = iota
	Boolean
	Int
	Long
	Float
	Double
	Bytes
	String
	Record
	Enum
	Array
	Map
	Union
	Fixed
)

// String returns the Avro name of the type ("int", "record", ...).
func (t Type) String() string {
	switch t {
	case Null:
		return "null"
	case Boolean:
		return "boolean"
	case Int:
		return "int"
	case Long:
		return "long"
	case Float:
		return "float"
	case Double:
		return "double"
	case Bytes:
		return "bytes"
	case String:
		return "string"
	case Record:
		return "record"
	case Enum:
		return "enum"
	case Array:
		return "array"
	case Map:
		return "map"
	case Union:
		return "union"
	case Fixed:
		return "fixed"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

func primitive(name string) (Type, bool) {
	switch name {
	case "null":
		return Null, true
	case "boolean":
		return Boolean, true
	case "int":
		return Int, true
	case "long":
		return Long, true
	case "float":
		return Float, true
	case "double":
		return Double, true
	case "bytes":
		return Bytes, true
	case "string":
		return String, true
	}
	return 0, false
}

// node is one schema in the parsed tree. Named types (record, enum, fixed)
// appear once and are shared by every reference, so recursive schemas are
// cyclic graphs.
type node struct {
	typ      Type
	name     string   // full name of a named type
	aliases  []string // full names
	fields   []*field
	byName   map[string]int // record: field name -> index
	symbols  []string
	enumDef  string
	hasDef   bool // enum has a default symbol
	size     int
	items    *node
	values   *node
	branches []*node
	logical  string
}

type field struct {
	name       string
	aliases    []string
	typ        *node
	hasDefault bool
}

// describe renders a node for messages: "int", "record com.acme.Machine",
// "array", "union [null, string]".
func (n *node) describe() string {
	switch n.typ {
	case Record, Enum, Fixed:
		return n.typ.String() + " " + n.name
	case Union:
		parts := make([]string, len(n.branches))
		for i, b := range n.branches {
			parts[i] = b.short()
		}
		return "union [" + strings.Join(parts, ", ") + "]"
	}
	return n.typ.String()
}

func (n *node) short() string {
	switch n.typ {
	case Record, Enum, Fixed:
		return n.name
	}
	return n.typ.String()
}

// Schema is a parsed Avro schema document. It remembers where every element
// was written, so findings can be mapped back to a line and column.
type Schema struct {
	root    *node
	offsets map[string]int // JSON pointer -> byte offset of the element
	lines   *lineIndex
	names   map[string]*node // every named type visible in the document, imports included
}

// Type returns the type of the top-level schema.
func (s *Schema) Type() Type { return s.root.typ }

// Name returns the full name of a named top-level schema, else its type.
func (s *Schema) Name() string { return s.root.short() }

// Position returns the 1-based line and column where the element at JSON
// pointer ptr starts in the document. When ptr names no written element
// (for example a union branch index of the other schema), the nearest
// enclosing element is used. ok is false only for a Schema not made by
// Parse.
func (s *Schema) Position(ptr string) (line, col int, ok bool) {
	if s == nil || s.lines == nil {
		return 0, 0, false
	}
	for {
		if off, found := s.offsets[ptr]; found {
			line, col = s.lines.position(off)
			return line, col, true
		}
		if ptr == "" {
			return 1, 1, true
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			ptr = ""
		} else {
			ptr = ptr[:i]
		}
	}
}

// Parse parses an Avro schema document (an .avsc file or the text a schema
// registry stores). Every named type must be defined before it is
// referenced, except that a record may refer to itself and to the types
// being defined around it. Field defaults are checked against their types
// (a union default against the union's first branch, as the specification
// says). Logical types are kept but not validated: the specification says a
// reader ignores an invalid logical type and uses the underlying type.
//
// Errors are *ParseError values naming the line, column and JSON pointer of
// the problem. Parse never panics, whatever the input.
func Parse(data []byte) (*Schema, error) {
	return ParseWith(data, ParseOptions{})
}

// ParseOptions adjust Parse.
type ParseOptions struct {
	// SkipDefaultValidation accepts field defaults that do not match their
	// type, as Confluent Schema Registry does for schemas it already holds
	// (for example "default": "null" on a ["null", "string"] field). Use it
	// for existing versions fetched from a registry, which cannot be fixed;
	// a field with an invalid default still counts as having a default.
	SkipDefaultValidation bool
	// Imports are schemas whose named types (and those they import) the
	// document may use by full name without defining them, as Confluent
	// schema references provide. Defining a type an import already
	// defines is an error.
	Imports []*Schema
}

// ParseWith is Parse with options.
func ParseWith(data []byte, opts ParseOptions) (*Schema, error) {
	lines := newLineIndex(data)
	if off := invalidUTF8(data); off >= 0 {
		return nil, lines.errorAt(off, "", "the schema document is not valid UTF-8")
	}
	root, err := parseJSON(data, lines)
	if err != nil {
		return nil, err
	}
	p := &schemaParser{lines: lines, names: make(map[string]*node), offsets: make(map[string]int)}
	for _, imp := range opts.Imports {
		if imp == nil {
			continue
		}
		for name, n := range imp.names {
			p.names[name] = n
		}
	}
	n, err := p.parse(root, "", "")
	if err != nil {
		return nil, err
	}
	for _, d := range p.defaults {
		if opts.SkipDefaultValidation {
			break
		}
		if msg := validDefault(d.field.typ, d.val, 0); msg != "" {
			return nil, lines.errorAt(d.val.off, d.ptr, fmt.Sprintf("default of field %q is not a valid %s: %s", d.field.name, d.field.typ.describe(), msg))
		}
	}
	return &Schema{root: n, offsets: p.offsets, lines: lines, names: p.names}, nil
}

type pendingDefault struct {
	field *field
	val   *jval
	ptr   string
}

type schemaParser struct {
	lines    *lineIndex
	names    map[string]*node
	offsets  map[string]int
	defaults []pendingDefault
}

func (p *schemaParser) errf(v *jval, ptr, format string, args ...any) error {
	return p.lines.errorAt(v.off, ptr, fmt.Sprintf(format, args...))
}

// parse parses the schema v found at JSON pointer ptr, in enclosing
// namespace ns.
func (p *schemaParser) parse(v *jval, ptr, ns string) (*node, error) {
	p.offsets[ptr] = v.off
	switch v.kind {
	case jString:
		return p.reference(v, ptr, ns, v.str)
	case jArray:
		return p.union(v, ptr, ns)
	case jObject:
		return p.object(v, ptr, ns)
	}
	return nil, p.errf(v, ptr, "a schema must be a type name, an object or an array (union), not %s", v.kind)
}

func (p *schemaParser) reference(v *jval, ptr, ns, name string) (*node, error) {
	if t, ok := primitive(name); ok {
		return &node{typ: t}, nil
	}
	if n := p.lookup(name, ns); n != nil {
		return n, nil
	}
	switch name {
	case "record", "error", "enum", "fixed", "array", "map":
		return nil, p.errf(v, ptr, "type %q must be written as an object, e.g. {\"type\": %q, ...}", name, name)
	}
	return nil, p.errf(v, ptr, "unknown type %q (named types must be defined before they are used)", name)
}

func (p *schemaParser) lookup(name, ns string) *node {
	if !strings.Contains(name, ".") && ns != "" {
		if n := p.names[ns+"."+name]; n != nil {
			return n
		}
	}
	return p.names[name]
}

func (p *schemaParser) union(v *jval, ptr, ns string) (*node, error) {
	n := &node{typ: Union}
	seen := make(map[string]int)
	for i, e := range v.elems {
		bp := ptr + "/" + strconv.Itoa(i)
		b, err := p.parse(e, bp, ns)
		if err != nil {
			return nil, err
		}
		if b.typ == Union {
			return nil, p.errf(e, bp, "a union may not immediately contain another union")
		}
		key := b.typ.String()
		if b.typ == Record || b.typ == Enum || b.typ == Fixed {
			key = b.name
		}
		if j, dup := seen[key]; dup {
			return nil, p.errf(e, bp, "union branches %d and %d are both %s", j, i, key)
		}
		seen[key] = i
		n.branches = append(n.branches, b)
	}
	return n, nil
}

func (p *schemaParser) object(v *jval, ptr, ns string) (*node, error) {
	t := v.get("type")
	if t == nil {
		return nil, p.errf(v, ptr, "schema object has no \"type\"")
	}
	if t.kind == jObject || t.kind == jArray {
		// {"type": {...}} and {"type": [...]}: the nested schema is the type.
		return p.parse(t, ptr+"/type", ns)
	}
	if t.kind != jString {
		return nil, p.errf(t, ptr+"/type", "\"type\" must be a string, not %s", t.kind)
	}
	logical := ""
	if lt := v.get("logicalType"); lt != nil && lt.kind == jString {
		logical = lt.str
	}
	switch t.str {
	case "record", "error":
		return p.record(v, ptr, ns)
	case "enum":
		return p.enum(v, ptr, ns)
	case "fixed":
		n, err := p.named(v, ptr, ns, Fixed)
		if err != nil {
			return nil, err
		}
		sz := v.get("size")
		if sz == nil {
			return nil, p.errf(v, ptr, "fixed %s has no \"size\"", n.name)
		}
		size, ok := intValue(sz)
		if !ok || size < 0 || size > math.MaxInt32 {
			return nil, p.errf(sz, ptr+"/size", "size of fixed %s must be a non-negative integer", n.name)
		}
		p.offsets[ptr+"/size"] = sz.off
		n.size = int(size)
		n.logical = logical
		return n, nil
	case "array":
		it := v.get("items")
		if it == nil {
			return nil, p.errf(v, ptr, "array schema has no \"items\"")
		}
		items, err := p.parse(it, ptr+"/items", ns)
		if err != nil {
			return nil, err
		}
		return &node{typ: Array, items: items, logical: logical}, nil
	case "map":
		vs := v.get("values")
		if vs == nil {
			return nil, p.errf(v, ptr, "map schema has no \"values\"")
		}
		values, err := p.parse(vs, ptr+"/values", ns)
		if err != nil {
			return nil, err
		}
		return &node{typ: Map, values: values, logical: logical}, nil
	}
	if pt, ok := primitive(t.str); ok {
		return &node{typ: pt, logical: logical}, nil
	}
	return p.reference(t, ptr+"/type", ns, t.str)
}

// named parses name, namespace and aliases of a named type and registers
// it, before its children are parsed, so that they may refer to it.
func (p *schemaParser) named(v *jval, ptr, ns string, t Type) (*node, error) {
	nv := v.get("name")
	if nv == nil {
		return nil, p.errf(v, ptr, "%s schema has no \"name\"", t)
	}
	if nv.kind != jString {
		return nil, p.errf(nv, ptr+"/name", "name must be a string, not %s", nv.kind)
	}
	p.offsets[ptr+"/name"] = nv.off
	name := nv.str
	if nsv := v.get("namespace"); nsv != nil && !strings.Contains(name, ".") {
		switch nsv.kind {
		case jString:
			ns = nsv.str
		case jNull:
			ns = ""
		default:
			return nil, p.errf(nsv, ptr+"/namespace", "namespace must be a string, not %s", nsv.kind)
		}
		if ns != "" {
			if msg := validFullName(ns); msg != "" {
				return nil, p.errf(nsv, ptr+"/namespace", "invalid namespace %q: %s", ns, msg)
			}
		}
	}
	full := name
	if !strings.Contains(name, ".") && ns != "" {
		full = ns + "." + name
	}
	if msg := validFullName(full); msg != "" {
		return nil, p.errf(nv, ptr+"/name", "invalid name %q: %s", name, msg)
	}
	if _, prim := primitive(full[strings.LastIndexByte(full, '.')+1:]); prim {
		return nil, p.errf(nv, ptr+"/name", "a named type may not be called %q, the name of a primitive type", name)
	}
	if _, dup := p.names[full]; dup {
		return nil, p.errf(nv, ptr+"/name", "type %s is defined twice (here and earlier, or in an imported schema)", full)
	}
	space := ""
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		space = full[:i]
	}
	aliases, err := p.aliases(v, ptr, space)
	if err != nil {
		return nil, err
	}
	n := &node{typ: t, name: full, aliases: aliases}
	p.names[full] = n
	return n, nil
}

func (p *schemaParser) aliases(v *jval, ptr, space string) ([]string, error) {
	av := v.get("aliases")
	if av == nil {
		return nil, nil
	}
	if av.kind != jArray {
		return nil, p.errf(av, ptr+"/aliases", "aliases must be an array of names, not %s", av.kind)
	}
	var out []string
	for i, a := range av.elems {
		ap := ptr + "/aliases/" + strconv.Itoa(i)
		if a.kind != jString {
			return nil, p.errf(a, ap, "alias must be a string, not %s", a.kind)
		}
		full := a.str
		if !strings.Contains(full, ".") && space != "" {
			full = space + "." + full
		}
		if msg := validFullName(full); msg != "" {
			return nil, p.errf(a, ap, "invalid alias %q: %s", a.str, msg)
		}
		out = append(out, full)
	}
	return out, nil
}

func (p *schemaParser) record(v *jval, ptr, ns string) (*node, error) {
	n, err := p.named(v, ptr, ns, Record)
	if err != nil {
		return nil, err
	}
	space := ""
	if i := strings.LastIndexByte(n.name, '.'); i >= 0 {
		space = n.name[:i]
	}
	fv := v.get("fields")
	if fv == nil {
		return nil, p.errf(v, ptr, "record %s has no \"fields\"", n.name)
	}
	if fv.kind != jArray {
		return nil, p.errf(fv, ptr+"/fields", "fields of record %s must be an array, not %s", n.name, fv.kind)
	}
	p.offsets[ptr+"/fields"] = fv.off
	n.byName = make(map[string]int, len(fv.elems))
	for i, f := range fv.elems {
		fp := ptr + "/fields/" + strconv.Itoa(i)
		p.offsets[fp] = f.off
		if f.kind != jObject {
			return nil, p.errf(f, fp, "field %d of record %s must be an object, not %s", i, n.name, f.kind)
		}
		fn := f.get("name")
		if fn == nil || fn.kind != jString {
			return nil, p.errf(f, fp, "field %d of record %s has no string \"name\"", i, n.name)
		}
		if msg := validName(fn.str); msg != "" {
			return nil, p.errf(fn, fp+"/name", "invalid field name %q: %s", fn.str, msg)
		}
		if _, dup := n.byName[fn.str]; dup {
			return nil, p.errf(fn, fp+"/name", "record %s has two fields named %q", n.name, fn.str)
		}
		ft := f.get("type")
		if ft == nil {
			return nil, p.errf(f, fp, "field %q of record %s has no \"type\"", fn.str, n.name)
		}
		typ, err := p.parse(ft, fp+"/type", space)
		if err != nil {
			return nil, err
		}
		fd := &field{name: fn.str, typ: typ}
		if av := f.get("aliases"); av != nil {
			if av.kind != jArray {
				return nil, p.errf(av, fp+"/aliases", "aliases must be an array of names, not %s", av.kind)
			}
			for j, a := range av.elems {
				if a.kind != jString || validName(a.str) != "" {
					return nil, p.errf(a, fp+"/aliases/"+strconv.Itoa(j), "field alias must be a valid name")
				}
				fd.aliases = append(fd.aliases, a.str)
			}
		}
		if o := f.get("order"); o != nil {
			if o.kind != jString || (o.str != "ascending" && o.str != "descending" && o.str != "ignore") {
				return nil, p.errf(o, fp+"/order", "order must be \"ascending\", \"descending\" or \"ignore\"")
			}
		}
		if d := f.get("default"); d != nil {
			fd.hasDefault = true
			p.defaults = append(p.defaults, pendingDefault{field: fd, val: d, ptr: fp + "/default"})
		}
		n.byName[fd.name] = len(n.fields)
		n.fields = append(n.fields, fd)
	}
	return n, nil
}

func (p *schemaParser) enum(v *jval, ptr, ns string) (*node, error) {
	n, err := p.named(v, ptr, ns, Enum)
	if err != nil {
		return nil, err
	}
	sv := v.get("symbols")
	if sv == nil {
		return nil, p.errf(v, ptr, "enum %s has no \"symbols\"", n.name)
	}
	if sv.kind != jArray {
		return nil, p.errf(sv, ptr+"/symbols", "symbols of enum %s must be an array, not %s", n.name, sv.kind)
	}
	p.offsets[ptr+"/symbols"] = sv.off
	seen := make(map[string]bool, len(sv.elems))
	for i, s := range sv.elems {
		sp := ptr + "/symbols/" + strconv.Itoa(i)
		if s.kind != jString {
			return nil, p.errf(s, sp, "enum symbol must be a string, not %s", s.kind)
		}
		if msg := validName(s.str); msg != "" {
			return nil, p.errf(s, sp, "invalid enum symbol %q: %s", s.str, msg)
		}
		if seen[s.str] {
			return nil, p.errf(s, sp, "enum %s lists symbol %q twice", n.name, s.str)
		}
		seen[s.str] = true
		n.symbols = append(n.symbols, s.str)
	}
	if d := v.get("default"); d != nil {
		if d.kind != jString || !seen[d.str] {
			return nil, p.errf(d, ptr+"/default", "default of enum %s must be one of its symbols", n.name)
		}
		n.enumDef, n.hasDef = d.str, true
	}
	return n, nil
}

// validName checks an Avro name: [A-Za-z_][A-Za-z0-9_]*. It returns "" when
// valid, else the reason.
func validName(s string) string {
	if s == "" {
		return "empty"
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return "names start with a letter or _ and contain only letters, digits and _"
		}
	}
	return ""
}

func validFullName(s string) string {
	for _, part := range strings.Split(s, ".") {
		if msg := validName(part); msg != "" {
			return msg
		}
	}
	return ""
}

func intValue(v *jval) (int64, bool) {
	if v.kind != jNumber {
		return 0, false
	}
	n, err := strconv.ParseInt(v.str, 10, 64)
	return n, err == nil
}

// validDefault checks a field default against its type; "" means valid.
// depth guards against unbounded recursion (defaults are finite JSON, but
// stay defensive).
func validDefault(n *node, v *jval, depth int) string {
	if depth > maxDepth {
		return "nested too deeply"
	}
	want := func(k jkind) string {
		if v.kind == k {
			return ""
		}
		return fmt.Sprintf("expected %s, got %s", k, v.kind)
	}
	switch n.typ {
	case Null:
		return want(jNull)
	case Boolean:
		return want(jBool)
	case Int, Long:
		if v.kind != jNumber {
			return want(jNumber)
		}
		i, ok := new(big.Int).SetString(v.str, 10)
		if !ok {
			return fmt.Sprintf("%s is not an integer", v.str)
		}
		if n.typ == Int && (i.Cmp(big.NewInt(math.MinInt32)) < 0 || i.Cmp(big.NewInt(math.MaxInt32)) > 0) {
			return fmt.Sprintf("%s is outside the int range", v.str)
		}
		if !i.IsInt64() {
			return fmt.Sprintf("%s is outside the long range", v.str)
		}
		return ""
	case Float, Double:
		return want(jNumber)
	case String:
		return want(jString)
	case Bytes, Fixed:
		if msg := want(jString); msg != "" {
			return msg
		}
		count := 0
		for _, r := range v.str {
			if r > 0xff {
				return "bytes defaults are strings of code points 0-255"
			}
			count++
		}
		if n.typ == Fixed && count != n.size {
			return fmt.Sprintf("%d bytes for a fixed of size %d", count, n.size)
		}
		return ""
	case Enum:
		if msg := want(jString); msg != "" {
			return msg
		}
		for _, s := range n.symbols {
			if s == v.str {
				return ""
			}
		}
		return fmt.Sprintf("%q is not a symbol of %s", v.str, n.name)
	case Array:
		if msg := want(jArray); msg != "" {
			return msg
		}
		for i, e := range v.elems {
			if msg := validDefault(n.items, e, depth+1); msg != "" {
				return fmt.Sprintf("item %d: %s", i, msg)
			}
		}
		return ""
	case Map:
		if msg := want(jObject); msg != "" {
			return msg
		}
		for i, e := range v.vals {
			if msg := validDefault(n.values, e, depth+1); msg != "" {
				return fmt.Sprintf("value %q: %s", v.keys[i], msg)
			}
		}
		return ""
	case Record:
		if msg := want(jObject); msg != "" {
			return msg
		}
		for _, f := range n.fields {
			fv := v.get(f.name)
			if fv == nil {
				if f.hasDefault {
					continue
				}
				return fmt.Sprintf("field %q is missing", f.name)
			}
			if msg := validDefault(f.typ, fv, depth+1); msg != "" {
				return fmt.Sprintf("field %q: %s", f.name, msg)
			}
		}
		return ""
	case Union:
		if len(n.branches) == 0 {
			return "an empty union has no values"
		}
		if msg := validDefault(n.branches[0], v, depth+1); msg != "" {
			return "a union default must match the union's first branch (" + n.branches[0].short() + "): " + msg
		}
		return ""
	}
	return "unknown type"
}

// invalidUTF8 returns the offset of the first byte of data that is not
// valid UTF-8, or -1.
func invalidUTF8(data []byte) int {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		off += size
	}
	return -1
}
