package codec

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/hamba/avro/v2"
)

// Plan decodes Avro binary payloads written with one writer schema into
// plain Go values shaped by a reader schema. It is compiled once per writer
// schema and is safe for concurrent use.
//
// Values are presented as follows (the reader schema decides):
//
//	null -> nil              boolean -> bool
//	int, long -> int64       float, double -> float64
//	string -> string         bytes, fixed -> []byte (a copy)
//	enum -> string           array -> []any          map, record -> map[string]any
//	union -> the value of the branch written (never a {"type": value} wrapper)
//	decimal (bytes or fixed) -> exact string with exactly scale fractional
//	    digits, e.g. "-0.0050"
//	timestamp-millis, local-timestamp-millis -> "2006-01-02T15:04:05.000Z"
//	timestamp-micros, local-timestamp-micros -> "2006-01-02T15:04:05.000000Z"
//	date -> "2006-01-02"     time-millis -> "15:04:05.000"
//	time-micros -> "15:04:05.000000"
//	uuid -> string as written
//	duration -> map{"months", "days", "milliseconds": int64}
//
// Two DecodeOptions widen this presentation: KeepUnknownFields presents
// writer fields the reader lacks, and BranchNames names the record branch
// of unions whose record branches would otherwise be indistinguishable.
//
// Local timestamps carry no zone; they are rendered as if they were UTC (with
// "Z") so every timestamp is valid RFC 3339. Logical values outside their
// domain (a time of day past midnight, a timestamp outside years 0000-9999)
// are corrupt data. Unknown logical types are ignored, as the Avro
// specification requires, and the underlying type is presented. Float and
// double NaN and ±Inf are kept as they are (encoding/json rejects them).
// Decoded strings of one value share a backing array of at most 64 KiB.
type Plan struct {
	root valueNode
}

// NewPlan compiles a plan for payloads written with writer. With a nil
// reader every writer field is presented as written ("generic" mode).
// Otherwise writer data is resolved into reader by the Avro rules: fields are
// matched by name or reader alias, reader fields missing from the writer get
// their defaults, writer fields unknown to the reader are skipped, numeric
// and string/bytes promotions apply, and union branches and enum symbols are
// mapped. Compatibility is checked first with hamba's
// SchemaCompatibility.Compatible; NewPlan fails, naming the reason, when the
// schemas are incompatible. Options change the presentation (see
// KeepUnknownFields and BranchNames).
func NewPlan(writer, reader avro.Schema, opts ...DecodeOption) (*Plan, error) {
	p, err := newPlan(writer, reader, opts)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	return p, nil
}

// DecodeOption changes how a Plan (or an AvroDecoder's plans) present
// decoded values.
type DecodeOption func(*decodeOptions)

type decodeOptions struct {
	keepUnknown bool
	branchNames bool
}

// KeepUnknownFields makes writer fields that the reader schema lacks part
// of the decoded record instead of skipping them, at every record level:
// each is presented under its writer name, decoded with the writer's own
// type (as in generic mode). Reader fields are resolved as usual, so known
// fields keep the reader's shape while fields a newer writer adds still
// come through. An unknown field never replaces a reader field: a writer
// field whose name a reader field has is always matched to it. No effect
// in generic mode, where every writer field is presented anyway.
func KeepUnknownFields() DecodeOption { return func(o *decodeOptions) { o.keepUnknown = true } }

// BranchKey is the member BranchNames adds to a record decoded from a
// union branch. Avro names cannot contain '@', so it never clashes with a
// field.
const BranchKey = "@branch"

// BranchNames adds BranchKey, holding the record's short name (the reader
// schema's name of the branch in pinned mode, the writer's in generic
// mode), to every record read from a union that has two or more record
// branches: without it {"value": 1} from branch CanValue and from branch
// CanAccumulatedValue would be indistinguishable. Records from unions
// with a single record branch (the usual ["null", Record]) are unchanged.
func BranchNames() DecodeOption { return func(o *decodeOptions) { o.branchNames = true } }

func newPlan(writer, reader avro.Schema, opts []DecodeOption) (*Plan, error) {
	if writer == nil {
		return nil, errors.New("nil writer schema")
	}
	c := &compiler{
		compat:  avro.NewSchemaCompatibility(),
		records: make(map[[2]*avro.RecordSchema]*recordNode),
		skips:   make(map[*avro.RecordSchema]*skipRecord),
		sizes:   make(map[*avro.RecordSchema]int),
	}
	for _, o := range opts {
		o(&c.opts)
	}
	if reader == nil {
		reader = writer
	} else if err := c.compat.Compatible(reader, writer); err != nil {
		return nil, fmt.Errorf("writer schema %s cannot be read as %s: %w", schemaName(writer), schemaName(reader), err)
	}
	root, err := c.compile(writer, reader)
	if err != nil {
		return nil, fmt.Errorf("writer schema %s cannot be read as %s: %w", schemaName(writer), schemaName(reader), err)
	}
	return &Plan{root: root}, nil
}

// Decode decodes one payload (without the wire header). Every byte must be
// consumed. Any mismatch between payload and writer schema, including
// trailing bytes, fails with an *Error of ClassCorruptAvro whose SchemaID is
// 0. Decode never panics and never aliases payload in its result.
func (p *Plan) Decode(payload []byte) (any, error) {
	d := decoder{buf: payload}
	v := p.root.read(&d)
	if d.err == nil && d.pos != len(payload) {
		d.err = fmt.Errorf("%d trailing bytes after a complete value of %d bytes", len(payload)-d.pos, d.pos)
	}
	if d.err != nil {
		return nil, &Error{Class: ClassCorruptAvro, Err: d.err}
	}
	return v, nil
}

func schemaName(s avro.Schema) string {
	s = deref(s)
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	return string(s.Type())
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

type compiler struct {
	compat  *avro.SchemaCompatibility
	records map[[2]*avro.RecordSchema]*recordNode
	skips   map[*avro.RecordSchema]*skipRecord
	sizes   map[*avro.RecordSchema]int // -1 while being computed
	opts    decodeOptions
}

// named wraps n, the node reading reader branch rb of reader union ru, so
// the record it produces carries its branch name (BranchNames).
func (c *compiler) named(n valueNode, ru *avro.UnionSchema, rb avro.Schema) valueNode {
	if !c.opts.branchNames || ru == nil {
		return n
	}
	rec, ok := deref(rb).(*avro.RecordSchema)
	if !ok {
		return n
	}
	records := 0
	for _, b := range ru.Types() {
		if _, ok := deref(b).(*avro.RecordSchema); ok {
			records++
		}
	}
	if records < 2 {
		return n
	}
	return &branchNode{node: n, name: rec.Name()}
}

func (c *compiler) compile(w, r avro.Schema) (valueNode, error) {
	w, r = deref(w), deref(r)

	if wu, ok := w.(*avro.UnionSchema); ok {
		ru, _ := r.(*avro.UnionSchema)
		branches := make([]valueNode, len(wu.Types()))
		for i, wb := range wu.Types() {
			var rb avro.Schema
			switch {
			case ru == wu: // generic mode: branch i is read as itself
				rb = wb
			case ru != nil:
				rb = c.pickBranch(ru, wb)
			default:
				rb = r
				if c.compat.Compatible(r, wb) != nil {
					rb = nil
				}
			}
			if rb == nil {
				// The Avro rules make reading this branch an error; hamba's
				// compatibility check (applied first) rejects the pair.
				return nil, fmt.Errorf("writer union branch %d (%s) has no match in the reader schema", i, schemaName(wb))
			}
			n, err := c.compile(wb, rb)
			if err != nil {
				return nil, fmt.Errorf("union branch %d: %w", i, err)
			}
			branches[i] = c.named(n, ru, rb)
		}
		return &unionNode{branches: branches}, nil
	}
	if ru, ok := r.(*avro.UnionSchema); ok {
		rb := c.pickBranch(ru, w)
		if rb == nil {
			return nil, fmt.Errorf("reader union has no branch for writer type %s", schemaName(w))
		}
		n, err := c.compile(w, rb)
		if err != nil {
			return nil, err
		}
		return c.named(n, ru, rb), nil
	}

	rt := r.Type()
	switch w.Type() {
	case avro.Null:
		if rt == avro.Null {
			return nullNode{}, nil
		}
	case avro.Boolean:
		if rt == avro.Boolean {
			return boolNode{}, nil
		}
	case avro.Int:
		switch rt {
		case avro.Int, avro.Long:
			return intNode{conv: intConv(r)}, nil
		case avro.Float, avro.Double:
			return intNode{conv: convFloat64}, nil
		}
	case avro.Long:
		switch rt {
		case avro.Long:
			return longNode{conv: intConv(r)}, nil
		case avro.Float, avro.Double:
			return longNode{conv: convFloat64}, nil
		}
	case avro.Float:
		if rt == avro.Float || rt == avro.Double {
			return floatNode{}, nil
		}
	case avro.Double:
		if rt == avro.Double {
			return doubleNode{}, nil
		}
	case avro.String, avro.Bytes:
		what := "string"
		if w.Type() == avro.Bytes {
			what = "bytes"
		}
		switch rt {
		case avro.String:
			return bytesNode{conv: convString, what: what}, nil
		case avro.Bytes:
			cv, scale, err := bytesConv(r)
			if err != nil {
				return nil, err
			}
			return bytesNode{conv: cv, scale: scale, what: what}, nil
		}
	case avro.Fixed:
		if rt == avro.Fixed {
			wf, rf := w.(*avro.FixedSchema), r.(*avro.FixedSchema)
			if wf.Size() != rf.Size() || wf.Size() < 0 {
				return nil, fmt.Errorf("fixed %s has size %d, reader expects %d", wf.FullName(), wf.Size(), rf.Size())
			}
			cv, scale, err := bytesConv(r)
			if err != nil {
				return nil, err
			}
			return fixedNode{size: wf.Size(), conv: cv, scale: scale}, nil
		}
	case avro.Enum:
		if rt == avro.Enum {
			return enumResolve(w.(*avro.EnumSchema), r.(*avro.EnumSchema)), nil
		}
	case avro.Array:
		if rt == avro.Array {
			wi := w.(*avro.ArraySchema).Items()
			items, err := c.compile(wi, r.(*avro.ArraySchema).Items())
			if err != nil {
				return nil, fmt.Errorf("array items: %w", err)
			}
			return &arrayNode{items: items, minSize: c.minSize(wi)}, nil
		}
	case avro.Map:
		if rt == avro.Map {
			wv := w.(*avro.MapSchema).Values()
			values, err := c.compile(wv, r.(*avro.MapSchema).Values())
			if err != nil {
				return nil, fmt.Errorf("map values: %w", err)
			}
			return &mapNode{values: values, minSize: 1 + c.minSize(wv)}, nil
		}
	case avro.Record:
		if rt == avro.Record {
			return c.compileRecord(w.(*avro.RecordSchema), r.(*avro.RecordSchema))
		}
	}
	return nil, fmt.Errorf("writer type %s cannot be read as reader type %s", schemaName(w), schemaName(r))
}

// pickBranch chooses the reader union branch for writer type w: an exact
// match (same type, name and logical type) first, else the first compatible
// branch, as hamba's resolution does. It returns nil if none fits.
func (c *compiler) pickBranch(ru *avro.UnionSchema, w avro.Schema) avro.Schema {
	for _, rb := range ru.Types() {
		if sameKind(deref(rb), w) {
			return rb
		}
	}
	for _, rb := range ru.Types() {
		if c.compat.Compatible(rb, w) == nil {
			return rb
		}
	}
	return nil
}

func sameKind(a, b avro.Schema) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a := a.(type) {
	case avro.NamedSchema:
		return a.FullName() == b.(avro.NamedSchema).FullName()
	case *avro.PrimitiveSchema:
		return logicalType(a.Logical()) == logicalType(b.(*avro.PrimitiveSchema).Logical())
	}
	return true
}

func logicalType(l avro.LogicalSchema) avro.LogicalType {
	if l == nil {
		return ""
	}
	return l.Type()
}

// intConv is the presentation of a reader int or long.
func intConv(r avro.Schema) conv {
	p, ok := r.(*avro.PrimitiveSchema)
	if !ok {
		return convInt64
	}
	switch logicalType(p.Logical()) {
	case avro.Date:
		return convDate
	case avro.TimeMillis:
		return convTimeMillis
	case avro.TimeMicros:
		return convTimeMicros
	case avro.TimestampMillis, avro.LocalTimestampMillis:
		return convTimestampMillis
	case avro.TimestampMicros, avro.LocalTimestampMicros:
		return convTimestampMicros
	}
	return convInt64
}

// bytesConv is the presentation of a reader bytes or fixed.
func bytesConv(r avro.Schema) (conv, int, error) {
	var l avro.LogicalSchema
	switch r := r.(type) {
	case *avro.PrimitiveSchema:
		l = r.Logical()
	case *avro.FixedSchema:
		l = r.Logical()
	}
	switch l := l.(type) {
	case *avro.DecimalLogicalSchema:
		if l.Scale() < 0 || l.Scale() > 4*maxDecimalBytes {
			return 0, 0, fmt.Errorf("decimal scale %d is out of range", l.Scale())
		}
		return convDecimal, l.Scale(), nil
	case nil:
	default:
		if l.Type() == avro.Duration {
			return convDuration, 0, nil
		}
	}
	return convBytes, 0, nil
}

func enumResolve(w, r *avro.EnumSchema) *enumNode {
	n := &enumNode{symbols: make([]any, len(w.Symbols())), writer: w.Symbols()}
	for i, s := range w.Symbols() {
		switch {
		case slices.Contains(r.Symbols(), s):
			n.symbols[i] = s
		case r.HasDefault():
			n.symbols[i] = r.Default()
		}
	}
	return n
}

func (c *compiler) compileRecord(w, r *avro.RecordSchema) (valueNode, error) {
	key := [2]*avro.RecordSchema{w, r}
	if n, ok := c.records[key]; ok {
		return n, nil
	}
	n := &recordNode{size: len(r.Fields())}
	c.records[key] = n // before recursing, for recursive schemas
	if err := c.fillRecord(n, w, r); err != nil {
		delete(c.records, key)
		return nil, fmt.Errorf("record %s: %w", w.FullName(), err)
	}
	return n, nil
}

func (c *compiler) fillRecord(n *recordNode, w, r *avro.RecordSchema) error {
	wfs, rfs := w.Fields(), r.Fields()
	readerOf := make([]int, len(wfs)) // writer field -> reader field, or -1
	for i := range readerOf {
		readerOf[i] = -1
	}
	for j, rf := range rfs {
		i := slices.IndexFunc(wfs, func(wf *avro.Field) bool { return wf.Name() == rf.Name() })
		if i < 0 {
			i = slices.IndexFunc(wfs, func(wf *avro.Field) bool { return slices.Contains(rf.Aliases(), wf.Name()) })
		}
		if i >= 0 {
			if readerOf[i] >= 0 {
				return fmt.Errorf("writer field %s matches reader fields %s and %s", wfs[i].Name(), rfs[readerOf[i]].Name(), rf.Name())
			}
			readerOf[i] = j
			continue
		}
		if !rf.HasDefault() {
			return fmt.Errorf("reader field %s is missing in the writer schema and has no default", rf.Name())
		}
		v, err := defaultValue(rf.Type(), rf.Default(), 0)
		if err != nil {
			return fmt.Errorf("default of field %s: %w", rf.Name(), err)
		}
		n.defaults = append(n.defaults, recordDefault{name: rf.Name(), value: v, clone: isMutable(v)})
	}
	n.steps = make([]recordStep, len(wfs))
	for i, wf := range wfs {
		if readerOf[i] < 0 && c.opts.keepUnknown && w != r {
			v, err := c.compile(wf.Type(), wf.Type())
			if err != nil {
				return fmt.Errorf("field %s (unknown to the reader): %w", wf.Name(), err)
			}
			n.steps[i] = recordStep{name: wf.Name(), node: v}
			n.size++
			continue
		}
		if readerOf[i] < 0 {
			s, err := c.skipper(wf.Type())
			if err != nil {
				return fmt.Errorf("field %s: %w", wf.Name(), err)
			}
			n.steps[i] = recordStep{name: wf.Name(), skip: s}
			continue
		}
		rf := rfs[readerOf[i]]
		v, err := c.compile(wf.Type(), rf.Type())
		if err != nil {
			return fmt.Errorf("field %s: %w", wf.Name(), err)
		}
		n.steps[i] = recordStep{name: rf.Name(), node: v}
	}
	return nil
}

// skipper compiles a node that skips values of writer type w.
func (c *compiler) skipper(w avro.Schema) (skipNode, error) {
	w = deref(w)
	switch w := w.(type) {
	case *avro.NullSchema:
		return nullNode{}, nil
	case *avro.PrimitiveSchema:
		switch w.Type() {
		case avro.Null:
			return nullNode{}, nil
		case avro.Boolean:
			return skipBytes{n: 1}, nil
		case avro.Int, avro.Long:
			return skipVarint{}, nil
		case avro.Float:
			return skipBytes{n: 4}, nil
		case avro.Double:
			return skipBytes{n: 8}, nil
		case avro.String, avro.Bytes:
			return skipLengthPrefixed{}, nil
		}
	case *avro.EnumSchema:
		return skipVarint{}, nil
	case *avro.FixedSchema:
		if w.Size() < 0 {
			return nil, fmt.Errorf("fixed %s has negative size", w.FullName())
		}
		return skipBytes{n: w.Size()}, nil
	case *avro.ArraySchema:
		items, err := c.skipper(w.Items())
		if err != nil {
			return nil, err
		}
		return &skipArray{items: items, minSize: c.minSize(w.Items())}, nil
	case *avro.MapSchema:
		values, err := c.skipper(w.Values())
		if err != nil {
			return nil, err
		}
		return &skipArray{items: values, minSize: 1 + c.minSize(w.Values()), isMap: true}, nil
	case *avro.UnionSchema:
		s := &skipUnion{branches: make([]skipNode, len(w.Types()))}
		for i, b := range w.Types() {
			bs, err := c.skipper(b)
			if err != nil {
				return nil, err
			}
			s.branches[i] = bs
		}
		return s, nil
	case *avro.RecordSchema:
		if s, ok := c.skips[w]; ok {
			return s, nil
		}
		s := &skipRecord{fields: make([]skipNode, len(w.Fields()))}
		c.skips[w] = s
		for i, f := range w.Fields() {
			fs, err := c.skipper(f.Type())
			if err != nil {
				delete(c.skips, w)
				return nil, err
			}
			s.fields[i] = fs
		}
		return s, nil
	}
	return nil, fmt.Errorf("unsupported writer type %s", w.Type())
}

// minSize is a lower bound of the encoded size of a value of writer type w,
// used to reject item counts that cannot fit in the bytes left.
func (c *compiler) minSize(w avro.Schema) int {
	const ceiling = 1 << 30
	w = deref(w)
	switch w := w.(type) {
	case *avro.NullSchema:
		return 0
	case *avro.PrimitiveSchema:
		switch w.Type() {
		case avro.Null:
			return 0
		case avro.Float:
			return 4
		case avro.Double:
			return 8
		}
		return 1
	case *avro.FixedSchema:
		return min(max(w.Size(), 0), ceiling)
	case *avro.RecordSchema:
		if s, ok := c.sizes[w]; ok {
			return max(s, 0) // a cycle contributes nothing: still a lower bound
		}
		c.sizes[w] = -1
		total := 0
		for _, f := range w.Fields() {
			total = min(total+c.minSize(f.Type()), ceiling)
		}
		c.sizes[w] = total
		return total
	}
	return 1 // boolean, int, long, string, bytes, enum, array, map, union
}

// defaultValue converts a field default, as parsed by hamba, to the plain
// presentation of type s.
func defaultValue(s avro.Schema, def any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("default nested deeper than %d", maxDepth)
	}
	s = deref(s)
	switch s.Type() {
	case avro.Null:
		return nil, nil
	case avro.Boolean:
		if b, ok := def.(bool); ok {
			return b, nil
		}
	case avro.Int, avro.Long:
		if i, ok := toInt64(def); ok {
			return convertInt(nil, intConv(s), i)
		}
	case avro.Float:
		if f, ok := toFloat64(def); ok {
			return float64(float32(f)), nil
		}
	case avro.Double:
		if f, ok := toFloat64(def); ok {
			return f, nil
		}
	case avro.String:
		if str, ok := def.(string); ok {
			return str, nil
		}
	case avro.Bytes, avro.Fixed:
		if b, ok := toBytes(def); ok {
			cv, scale, err := bytesConv(s)
			if err != nil {
				return nil, err
			}
			return convertBytes(nil, cv, scale, b)
		}
	case avro.Enum:
		if str, ok := def.(string); ok {
			return str, nil
		}
	case avro.Array:
		if a, ok := def.([]any); ok {
			out := make([]any, len(a))
			for i, e := range a {
				v, err := defaultValue(s.(*avro.ArraySchema).Items(), e, depth+1)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}
	case avro.Map:
		if m, ok := def.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, e := range m {
				v, err := defaultValue(s.(*avro.MapSchema).Values(), e, depth+1)
				if err != nil {
					return nil, err
				}
				out[k] = v
			}
			return out, nil
		}
	case avro.Union:
		if ts := s.(*avro.UnionSchema).Types(); len(ts) > 0 {
			return defaultValue(ts[0], def, depth+1)
		}
	case avro.Record:
		if m, ok := def.(map[string]any); ok {
			fs := s.(*avro.RecordSchema).Fields()
			out := make(map[string]any, len(fs))
			for _, f := range fs {
				e, ok := m[f.Name()]
				if !ok {
					if !f.HasDefault() {
						return nil, fmt.Errorf("record default lacks field %s, which has no default", f.Name())
					}
					e = f.Default()
				}
				v, err := defaultValue(f.Type(), e, depth+1)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", f.Name(), err)
				}
				out[f.Name()] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("default %v (%T) is not a valid %s", def, def, s.Type())
}

func toInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) && v >= math.MinInt64 && v < math.MaxInt64 {
			return int64(v), true
		}
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch v := v.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	if i, ok := toInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

// toBytes accepts hamba's bytes defaults ([]byte) and fixed defaults
// ([N]byte arrays) as well as raw strings.
func toBytes(v any) ([]byte, bool) {
	switch v := v.(type) {
	case []byte:
		return v, true
	case string:
		b := make([]byte, 0, len(v))
		for _, r := range v {
			if r > 255 {
				return nil, false
			}
			b = append(b, byte(r))
		}
		return b, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8 {
		b := make([]byte, rv.Len())
		reflect.Copy(reflect.ValueOf(b), rv)
		return b, true
	}
	return nil, false
}

func isMutable(v any) bool {
	switch v.(type) {
	case map[string]any, []any, []byte:
		return true
	}
	return false
}
