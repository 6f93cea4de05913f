package profile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
	"github.com/hamba/avro/v2"
	"go.yaml.in/yaml/v3"

	"github.com/telebridge/telebridge/schemas"
)

// NameMapping is the profile name of declarative mappings (profile:
// mapping with mapping: FILE on a source).
const NameMapping = "mapping"

// A mapping file (YAML) describes how one decoded record becomes
// object-sync objects:
//
//	format: json            # or avro (decoded through the registry)
//	schema: reader.avsc     # avro only, optional: reader schema; absent = writer schema
//	vars:                   # evaluated once per record, in order
//	  assetId: uuid5("example.com", record.deviceId)
//	objects:
//	  - type: location      # asset, location, sensordata, reeferdata, gensetdata, gtoemdata
//	    when: record.lat != nil
//	    fields:
//	      assetId: vars.assetId
//	      latitude: number(record.lat)
//	      ...
//	  - type: sensordata
//	    each: record.signals  # one object per array element or map key (keys ascending)
//	    fields:
//	      sensorId: key
//	      value: text(value)
//
// Expressions are expr-lang (github.com/expr-lang/expr) over the variables
// record (the decoded value), kafka (topic, partition, offset, timestamp,
// key, headers), vars, and inside each: key, value, index. See helpers for
// the functions. JSON numbers arrive as json.Number (exact text): use
// number() or integer() to compute with them.

// Mapping is a compiled mapping file. It is immutable and safe for
// concurrent use; NewMapping turns it into a Profile.
type Mapping struct {
	file       string
	format     Format
	schemaFile string
	schema     string
	vars       []*mexpr
	objects    []*objSpec
	hs         map[string]*helper
	// usesKey and usesHeaders say whether kafka.key / kafka.headers are
	// referenced, so they are only converted when needed.
	usesKey, usesHeaders bool
}

// File is the path the mapping was loaded from.
func (m *Mapping) File() string { return m.file }

// Format is the wire format records are decoded from.
func (m *Mapping) Format() Format { return m.format }

// ReaderSchema is the Avro reader schema text of an avro mapping with a
// schema: key, or "" (decode with the writer schema).
func (m *Mapping) ReaderSchema() string { return m.schema }

// UsesHeaders reports whether the mapping reads kafka.headers, so the
// pipeline only converts Kafka headers into Input.Headers when needed.
func (m *Mapping) UsesHeaders() bool { return m.usesHeaders }

// mexpr is one compiled expression.
type mexpr struct {
	src       string
	path      string // "objects[1].fields.latitude"
	name      string // var name, for vars
	file      string
	line, col int
	prog      *vm.Program
	fast      fnode
	// fastStr, when set, evaluates an expression that always yields text
	// without boxing it.
	fastStr func(st *evalState) string
	// elem reports that the expression reads key, value or index.
	elem bool
}

func (e *mexpr) where() string {
	return fmt.Sprintf("%s:%d:%d", e.file, e.line, e.col)
}

// objSpec is one entry of objects.
type objSpec struct {
	path   string
	typ    schemas.Type
	when   *mexpr
	each   *mexpr
	fields []*fieldSpec
	// hoistedFields and elemFields split fields for each blocks: those
	// evaluated once per record and those evaluated per element.
	hoistedFields, elemFields []*fieldSpec
	// hoisted counts the fields that do not read key, value or index
	// (evaluated once per record in an each block).
	hoisted int
	// layout caches the sorted keys of the last map iterated (see
	// sortedEntries).
	layout atomic.Pointer[keyLayout]
}

// fieldSpec is one object field and its expression.
type fieldSpec struct {
	name     string
	kind     mkind
	required bool
	e        *mexpr
	assign   assignFn
	slot     int // index into the hoisted cache, or -1
	str      func(schemas.Object) *string
}

// CompileError is one problem of a mapping file, located by line and
// column (1-based) of the mapping file.
type CompileError struct {
	File      string
	Line, Col int
	// Path is the key path in the mapping ("objects[1].fields.latitude").
	Path string
	Msg  string
}

// Error reads like `m.yaml:12:17: objects[1].fields.latitude: unknown name lat`.
func (e *CompileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// CompileErrors is every problem of a mapping file, in file order.
type CompileErrors []*CompileError

// Error prints one problem per line.
func (es CompileErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// LoadMapping reads and compiles the mapping file at path. Problems with
// its content are a CompileErrors; a file that cannot be read is an
// *os.PathError.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	return ParseMapping(path, data)
}

// ParseMapping compiles a mapping file's content; path names it in errors
// and is the base of a relative schema: path. Every expression is compiled
// and type-checked; problems are returned together as CompileErrors.
func ParseMapping(path string, data []byte) (*Mapping, error) {
	c := &compiler{m: &Mapping{file: path, format: FormatJSON, hs: helpers()}, src: data}
	c.lines = strings.Split(string(data), "\n")
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if i := strings.Index(rest, ": "); i > 0 {
				if n, err := strconv.Atoi(rest[:i]); err == nil {
					line, msg = n, rest[i+2:]
				}
			}
		}
		return nil, CompileErrors{{File: path, Line: line, Msg: "invalid YAML: " + msg}}
	}
	if len(doc.Content) == 0 {
		return nil, CompileErrors{{File: path, Line: 1, Col: 1, Msg: "empty mapping: objects is required"}}
	}
	c.top(doc.Content[0])
	if len(c.errs) > 0 {
		slices.SortStableFunc(c.errs, func(a, b *CompileError) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, c.errs
	}
	return c.m, nil
}

type compiler struct {
	m     *Mapping
	src   []byte
	lines []string
	errs  CompileErrors
}

func (c *compiler) fail(n *yaml.Node, path, format string, args ...any) {
	e := &CompileError{File: c.m.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	c.errs = append(c.errs, e)
}

// mapping iterates a YAML mapping node, rejecting keys not in allowed.
func (c *compiler) mapping(n *yaml.Node, path string, allowed []string, fn func(k string, kn, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		c.fail(n, path, "must be a mapping (key: value lines)")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		k := kn.Value
		if seen[k] {
			c.fail(kn, join(path, k), "duplicate key")
			continue
		}
		seen[k] = true
		if allowed != nil && !slices.Contains(allowed, k) {
			c.fail(kn, join(path, k), "unknown key (allowed: %s)", strings.Join(allowed, ", "))
			continue
		}
		fn(k, kn, v)
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *compiler) top(n *yaml.Node) {
	var varsNode, objsNode *yaml.Node
	c.mapping(n, "", []string{"description", "format", "schema", "vars", "objects"}, func(k string, kn, v *yaml.Node) {
		switch k {
		case "format":
			switch Format(strings.ToLower(v.Value)) {
			case FormatJSON:
				c.m.format = FormatJSON
			case FormatAvro:
				c.m.format = FormatAvro
			default:
				c.fail(v, k, "invalid format %q (allowed: json, avro)", v.Value)
			}
		case "schema":
			c.m.schemaFile = v.Value
			if !filepath.IsAbs(v.Value) {
				c.m.schemaFile = filepath.Join(filepath.Dir(c.m.file), v.Value)
			}
			data, err := os.ReadFile(c.m.schemaFile)
			if err != nil {
				c.fail(v, k, "cannot read the reader schema: %v", err)
				return
			}
			if _, err := avro.Parse(string(data)); err != nil {
				c.fail(v, k, "invalid Avro schema %s: %v", c.m.schemaFile, err)
				return
			}
			c.m.schema = string(data)
		case "vars":
			varsNode = v
		case "objects":
			objsNode = v
		}
	})
	if n.Kind != yaml.MappingNode {
		return
	}
	if c.m.schemaFile != "" && c.m.format != FormatAvro {
		c.fail(n, "schema", "only allowed with format: avro")
	}
	var declared []string
	if varsNode != nil {
		c.mapping(varsNode, "vars", nil, func(k string, kn, v *yaml.Node) {
			p := "vars." + k
			if !identRE.MatchString(k) {
				c.fail(kn, p, "invalid variable name (letters, digits and _ only)")
				return
			}
			e := c.expr(v, p, declared, false, anyKind)
			if e != nil {
				e.name = k
				c.m.vars = append(c.m.vars, e)
			}
			declared = append(declared, k)
		})
	}
	if objsNode == nil {
		c.fail(n, "objects", "required: the list of objects to build")
		return
	}
	if objsNode.Kind != yaml.SequenceNode || len(objsNode.Content) == 0 {
		c.fail(objsNode, "objects", "must be a non-empty list")
		return
	}
	for i, on := range objsNode.Content {
		c.object(on, fmt.Sprintf("objects[%d]", i), declared)
	}
}

func (c *compiler) object(n *yaml.Node, path string, vars []string) {
	o := &objSpec{path: path}
	var fieldsNode, typeNode, whenNode, eachNode *yaml.Node
	c.mapping(n, path, []string{"type", "when", "each", "fields"}, func(k string, kn, v *yaml.Node) {
		switch k {
		case "type":
			typeNode = v
		case "when":
			whenNode = v
		case "each":
			eachNode = v
		case "fields":
			fieldsNode = v
		}
	})
	if n.Kind != yaml.MappingNode {
		return
	}
	if typeNode == nil {
		c.fail(n, path+".type", "required (allowed: %s)", typeNames())
		return
	}
	t, err := schemas.ParseType(strings.ToLower(typeNode.Value))
	if err != nil {
		c.fail(typeNode, path+".type", "unknown object type %q (allowed: %s)", typeNode.Value, typeNames())
		return
	}
	o.typ = t
	inEach := eachNode != nil
	if inEach {
		o.each = c.expr(eachNode, path+".each", vars, false, eachKind)
	}
	if whenNode != nil {
		o.when = c.expr(whenNode, path+".when", vars, inEach, boolKind)
	}
	if fieldsNode == nil {
		c.fail(n, path+".fields", "required: the object fields and their expressions")
		return
	}
	specs := fieldTable(t)
	given := map[string]bool{}
	c.mapping(fieldsNode, path+".fields", nil, func(k string, kn, v *yaml.Node) {
		p := path + ".fields." + k
		fs, ok := specs[k]
		if !ok {
			c.fail(kn, p, "%s has no field %q (fields: %s)", t.Title(), k, strings.Join(schemas.FieldNames(t), ", "))
			return
		}
		given[k] = true
		e := c.expr(v, p, vars, inEach, fs.kind)
		if e == nil {
			return
		}
		f := &fieldSpec{name: k, kind: fs.kind, required: fs.required, e: e, assign: fs.assign, slot: -1, str: fs.str}
		if inEach && !e.elem {
			f.slot = o.hoisted
			o.hoisted++
		}
		o.fields = append(o.fields, f)
		if f.slot >= 0 {
			o.hoistedFields = append(o.hoistedFields, f)
		} else {
			o.elemFields = append(o.elemFields, f)
		}
	})
	if fieldsNode.Kind != yaml.MappingNode {
		return
	}
	for _, name := range schemas.RequiredFieldNames(t) {
		if given[name] || !specs[name].required {
			continue
		}
		c.fail(fieldsNode, path+".fields."+name, "required field of %s has no expression", t.Title())
	}
	c.m.objects = append(c.m.objects, o)
}

func typeNames() string {
	var s []string
	for _, t := range schemas.AllTypes() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

// envType is the checker's view of the variables.
func envType(vars []string, inEach bool) types.Map {
	vm := types.Map{}
	for _, v := range vars {
		vm[v] = types.Any
	}
	env := types.Map{
		"record": types.Any,
		"kafka": types.Map{
			"topic":     types.String,
			"partition": types.Int,
			"offset":    types.Int64,
			"timestamp": types.TypeOf(time.Time{}),
			"key":       types.String,
			"headers":   types.Map{types.Extra: types.String},
		},
		"vars": vm,
	}
	if inEach {
		env["key"] = types.Any
		env["value"] = types.Any
		env["index"] = types.Int
	}
	return env
}

// position maps a 1-based line and column inside the expression text of
// scalar n to the mapping file.
func (c *compiler) position(n *yaml.Node, line, col int) (int, int) {
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The text starts on the line after | or >, with the block's
		// indentation (that of its first line) removed.
		indent := 0
		if n.Line < len(c.lines) {
			s := c.lines[n.Line]
			indent = len(s) - len(strings.TrimLeft(s, " "))
		}
		return n.Line + line, indent + col
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line == 1 {
			return n.Line, n.Column + col
		}
	default:
		if line == 1 {
			return n.Line, n.Column + col - 1
		}
	}
	fl := n.Line + line - 1
	indent := 0
	if fl-1 < len(c.lines) {
		s := c.lines[fl-1]
		indent = len(s) - len(strings.TrimLeft(s, " "))
	}
	return fl, indent + col
}

// offsetPos converts a rune offset in src to a 1-based line and column.
func offsetPos(src string, off int) (int, int) {
	line, col, i := 1, 1, 0
	for _, r := range src {
		if i == off {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

// expr compiles the scalar n as an expression of kind want.
func (c *compiler) expr(n *yaml.Node, path string, vars []string, inEach bool, want mkind) *mexpr {
	if n.Kind != yaml.ScalarNode {
		c.fail(n, path, "must be an expression (a YAML scalar), not a %s", nodeKind(n))
		return nil
	}
	src := n.Value
	if strings.TrimSpace(src) == "" {
		c.fail(n, path, "empty expression")
		return nil
	}
	e := &mexpr{src: src, path: path, file: c.m.file, line: n.Line, col: n.Column}
	opts := append([]expr.Option{expr.Env(envType(vars, inEach)), expr.DisableBuiltin("now")}, helperOptions(c.m.hs)...)
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		var fe *file.Error
		line, col := 1, 1
		msg := err.Error()
		if errors.As(err, &fe) {
			line, col, msg = fe.Line, fe.Column+1, fe.Message
			if line < 1 {
				line = 1
			}
		}
		if strings.HasPrefix(msg, "unknown name ") && !inEach {
			switch strings.TrimPrefix(msg, "unknown name ") {
			case "key", "value", "index":
				msg += " (key, value and index exist only in an object with each:)"
			}
		}
		if strings.HasPrefix(msg, "unknown name ") || strings.HasPrefix(msg, "unknown field ") {
			msg += hintNames(vars)
		}
		l, cl := c.position(n, line, col)
		c.errs = append(c.errs, &CompileError{File: c.m.file, Line: l, Col: cl, Path: path, Msg: msg})
		return nil
	}
	e.prog = prog
	root := prog.Node()
	if msg := want.check(root.Type()); msg != "" {
		c.fail(n, path, "expression %q %s", src, msg)
		return nil
	}
	v := &depVisitor{}
	ast.Walk(&root, v)
	e.elem = v.elem
	if v.key {
		c.m.usesKey = true
	}
	if v.headers {
		c.m.usesHeaders = true
	}
	if inEach {
		e.fast = fastCompileElem(root, c.m.hs)
	} else {
		e.fast = fastCompile(root, c.m.hs)
	}
	e.fastStr = fastCompileStr(root, c.m.hs)
	return e
}

func hintNames(vars []string) string {
	s := " (variables: record, kafka, vars"
	if len(vars) > 0 {
		s += "; vars: " + strings.Join(vars, ", ")
	}
	return s + ")"
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "node"
}

// depVisitor finds which variables an expression reads.
type depVisitor struct {
	elem, key, headers bool
}

func (v *depVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		switch x.Value {
		case "key", "value", "index":
			v.elem = true
		}
	case *ast.MemberNode:
		if id, ok := x.Node.(*ast.IdentifierNode); ok && id.Value == "kafka" {
			if s, ok := x.Property.(*ast.StringNode); ok {
				switch s.Value {
				case "key":
					v.key = true
				case "headers":
					v.headers = true
				}
			} else {
				v.key, v.headers = true, true
			}
		}
	}
}

// mkind is the kind of value an expression must yield.
type mkind uint8

const (
	anyKind mkind = iota
	boolKind
	eachKind
	stringKind
	floatKind
	intKind
	int32Kind
	timeKind
	tagsKind
	dataKind
)

var timeType = reflect.TypeOf(time.Time{})

// check reports why static type t cannot be of kind k, or "".
func (k mkind) check(t reflect.Type) string {
	if t == nil || t.Kind() == reflect.Interface || k == anyKind {
		return ""
	}
	kind := t.Kind()
	isNum := kind >= reflect.Int && kind <= reflect.Float64
	switch k {
	case boolKind:
		if kind != reflect.Bool {
			return "has type " + t.String() + ", want bool"
		}
	case eachKind:
		if kind != reflect.Slice && kind != reflect.Array && kind != reflect.Map {
			return "has type " + t.String() + ", want an array or an object to iterate"
		}
	case stringKind:
		if kind == reflect.Map || kind == reflect.Slice || t == timeType {
			return "has type " + t.String() + ", want text (use text(...) or json(...))"
		}
	case floatKind:
		if kind == reflect.String {
			return "has type string, want a number (use number(...))"
		}
		if !isNum {
			return "has type " + t.String() + ", want a number"
		}
	case intKind, int32Kind:
		if kind == reflect.String {
			return "has type string, want an integer (use integer(...))"
		}
		if !isNum && t != timeType {
			return "has type " + t.String() + ", want an integer"
		}
	case timeKind:
		if isNum {
			return "has type " + t.String() + `, want a time: the epoch unit is ambiguous, use time(v, "s"|"ms"|"us"|"ns")`
		}
		if kind != reflect.String && t != timeType {
			return "has type " + t.String() + ", want a time (use time(...))"
		}
	case tagsKind:
		if kind != reflect.Slice && kind != reflect.Array {
			return "has type " + t.String() + ", want a list of text"
		}
	case dataKind:
		if kind != reflect.Map {
			return "has type " + t.String() + ", want an object"
		}
	}
	return ""
}

// Types lists the object types the mapping can emit, in canonical order.
func (m *Mapping) Types() []schemas.Type {
	var out []schemas.Type
	for _, t := range schemas.AllTypes() {
		for _, o := range m.objects {
			if o.typ == t {
				out = append(out, t)
				break
			}
		}
	}
	return out
}
