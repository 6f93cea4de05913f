package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Decoder limits. Exceeding one is reported as ClassCorruptAvro.
const (
	// maxDepth bounds record nesting while decoding, so recursive schemas
	// cannot be used to exhaust the goroutine stack.
	maxDepth = 256
	// maxZeroSizeItems bounds, per decoded value, the items of arrays whose
	// items occupy no bytes (null, empty records), which counts alone could
	// otherwise inflate without limit.
	maxZeroSizeItems = 1 << 16
	// arenaChunk and maxArenaChunk bound the size of string arena chunks
	// (a single longer string gets a chunk of its own size).
	arenaChunk    = 1024
	maxArenaChunk = 64 << 10
)

// decoder is the cursor over one Avro payload. The first error sticks; after
// it every read returns zero values, so node code checks d.err only where it
// loops.
//
// Decoded strings are carved out of arena chunks, saving an allocation per
// string. A chunk is append-only: bytes that a string refers to are never
// written again, which keeps the strings immutable.
type decoder struct {
	buf       []byte
	pos       int
	depth     int
	zeroItems int // zero-size items read so far
	err       error
	arena     []byte
}

// scratch returns an empty slice with room for n bytes at the end of the
// arena. The caller appends at most n bytes and passes the result to finish.
// A nil decoder (used for schema defaults) returns a fresh buffer.
func (d *decoder) scratch(n int) []byte {
	if d == nil {
		return make([]byte, 0, n)
	}
	if cap(d.arena)-len(d.arena) < n {
		d.arena = make([]byte, 0, max(n, min(max(arenaChunk, 2*len(d.buf)), maxArenaChunk)))
	}
	return d.arena[len(d.arena):len(d.arena)]
}

// finish turns bytes appended to a scratch slice into a string and claims
// them in the arena.
func (d *decoder) finish(b []byte) string {
	if d == nil || len(b) == 0 {
		return string(b)
	}
	if len(b) > cap(d.arena)-len(d.arena) || unsafe.SliceData(b) != unsafe.SliceData(d.arena[len(d.arena):cap(d.arena)]) {
		return string(b) // not carved from the arena (cannot happen when scratch is used as documented)
	}
	d.arena = d.arena[:len(d.arena)+len(b)]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: "+format, append([]any{d.pos}, args...)...)
	}
}

func (d *decoder) failErr(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %w", d.pos, err)
	}
}

func (d *decoder) remaining() int { return len(d.buf) - d.pos }

// varint reads an unsigned base-128 varint of at most maxBytes bytes.
func (d *decoder) varint(maxBytes int, what string) uint64 {
	if d.err != nil {
		return 0
	}
	if d.pos < len(d.buf) && d.buf[d.pos] < 0x80 {
		v := d.buf[d.pos]
		d.pos++
		return uint64(v)
	}
	var v uint64
	var shift uint
	for i := 0; i < maxBytes; i++ {
		if d.pos >= len(d.buf) {
			d.fail("truncated %s", what)
			return 0
		}
		b := d.buf[d.pos]
		d.pos++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			if i == maxBytes-1 && maxBytes == 10 && b > 1 {
				d.fail("%s varint overflows 64 bits", what)
				return 0
			}
			return v
		}
		shift += 7
	}
	d.fail("%s varint longer than %d bytes", what, maxBytes)
	return 0
}

func (d *decoder) long(what string) int64 {
	u := d.varint(10, what)
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) int32(what string) int64 {
	u := d.varint(5, what)
	if u > math.MaxUint32 {
		d.fail("%s varint overflows 32 bits", what)
		return 0
	}
	return int64(int32(uint32(u>>1) ^ -uint32(u&1)))
}

// take returns the next n bytes (aliasing the payload).
func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.remaining() {
		d.fail("truncated %s: need %d bytes, %d left", what, n, d.remaining())
		return nil
	}
	b := d.buf[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b
}

// lengthPrefixed returns the bytes of a bytes or string value; what names
// it in errors.
func (d *decoder) lengthPrefixed(what string) []byte {
	n := d.long("length")
	if d.err != nil {
		return nil
	}
	if n < 0 || n > int64(d.remaining()) {
		d.fail("invalid %s length %d with %d bytes left", what, n, d.remaining())
		return nil
	}
	return d.take(int(n), what)
}

// blockCount reads the item count of the next array or map block, validating
// it against the bytes left. It returns 0 at the end of the value. what is
// "array" or "map".
func (d *decoder) blockCount(minItemSize int, what string) int {
	n := d.long("block count")
	if d.err != nil || n == 0 {
		return 0
	}
	if n < 0 {
		if n == math.MinInt64 {
			d.fail("invalid %s block count %d", what, n)
			return 0
		}
		n = -n
		size := d.long("block size")
		if d.err == nil && (size < 0 || size > int64(d.remaining())) {
			d.fail("invalid %s block size %d with %d bytes left", what, size, d.remaining())
		}
		if d.err != nil {
			return 0
		}
	}
	if minItemSize > 0 {
		if n > int64(d.remaining()/minItemSize) {
			d.fail("%s block of %d items cannot fit in %d bytes left", what, n, d.remaining())
			return 0
		}
	} else {
		if n > int64(maxZeroSizeItems-d.zeroItems) {
			d.fail("%s: more than %d zero-size items in one value", what, maxZeroSizeItems)
			return 0
		}
		d.zeroItems += int(n)
	}
	return int(n)
}

// enter and leave bound record nesting.
func (d *decoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.fail("records nested deeper than %d", maxDepth)
		return false
	}
	return true
}

func (d *decoder) leave() { d.depth-- }

// valueNode reads one value of a writer type and returns it as the reader
// type's plain value.
type valueNode interface {
	read(d *decoder) any
}

// skipNode advances over one value of a writer type without building it.
type skipNode interface {
	skip(d *decoder)
}

type nullNode struct{}

func (nullNode) read(*decoder) any { return nil }
func (nullNode) skip(*decoder)     {}

type boolNode struct{}

func (boolNode) read(d *decoder) any {
	b := d.take(1, "boolean")
	if d.err != nil {
		return nil
	}
	switch b[0] {
	case 0:
		return false
	case 1:
		return true
	}
	d.pos--
	d.fail("invalid boolean byte 0x%02x", b[0])
	return nil
}

// intNode reads a writer int and converts it to the reader representation.
type intNode struct{ conv conv }

func (n intNode) read(d *decoder) any {
	v := d.int32("int")
	if d.err != nil {
		return nil
	}
	out, err := convertInt(d, n.conv, v)
	if err != nil {
		d.failErr(err)
		return nil
	}
	return out
}

// longNode reads a writer long and converts it to the reader representation.
type longNode struct{ conv conv }

func (n longNode) read(d *decoder) any {
	v := d.long("long")
	if d.err != nil {
		return nil
	}
	if n.conv == convInt64 {
		return v
	}
	out, err := convertInt(d, n.conv, v)
	if err != nil {
		d.failErr(err)
		return nil
	}
	return out
}

type floatNode struct{}

func (floatNode) read(d *decoder) any {
	b := d.take(4, "float")
	if d.err != nil {
		return nil
	}
	return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
}

type doubleNode struct{}

func (doubleNode) read(d *decoder) any {
	b := d.take(8, "double")
	if d.err != nil {
		return nil
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// bytesNode reads a writer bytes or string value.
type bytesNode struct {
	conv  conv
	scale int // decimal only
	what  string
}

func (n bytesNode) read(d *decoder) any {
	b := d.lengthPrefixed(n.what)
	if d.err != nil {
		return nil
	}
	if n.conv == convString {
		return d.finish(append(d.scratch(len(b)), b...))
	}
	out, err := convertBytes(d, n.conv, n.scale, b)
	if err != nil {
		d.failErr(err)
		return nil
	}
	return out
}

// fixedNode reads a writer fixed value.
type fixedNode struct {
	size  int
	conv  conv
	scale int
}

func (n fixedNode) read(d *decoder) any {
	b := d.take(n.size, "fixed")
	if d.err != nil {
		return nil
	}
	out, err := convertBytes(d, n.conv, n.scale, b)
	if err != nil {
		d.failErr(err)
		return nil
	}
	return out
}

// enumNode maps a writer symbol index to the reader symbol, boxed once at
// compile time. A nil entry means the writer symbol is unknown to the reader
// and it has no default.
type enumNode struct {
	symbols []any
	writer  []string
}

func (n *enumNode) read(d *decoder) any {
	i := d.int32("enum index")
	if d.err != nil {
		return nil
	}
	if i < 0 || i >= int64(len(n.symbols)) {
		d.fail("enum index %d out of range [0, %d)", i, len(n.symbols))
		return nil
	}
	if s := n.symbols[i]; s != nil {
		return s
	}
	d.fail("enum symbol %q is unknown to the reader schema, which has no default", n.writer[i])
	return nil
}

type arrayNode struct {
	items   valueNode
	minSize int
}

func (n *arrayNode) read(d *decoder) any {
	var out []any
	for d.err == nil {
		c := d.blockCount(n.minSize, "array")
		if c == 0 {
			break
		}
		if out == nil {
			out = make([]any, 0, c)
		}
		for range c {
			out = append(out, n.items.read(d))
			if d.err != nil {
				return nil
			}
		}
	}
	if d.err != nil {
		return nil
	}
	if out == nil {
		out = []any{}
	}
	return out
}

type mapNode struct {
	values  valueNode
	minSize int // of key plus value
}

func (n *mapNode) read(d *decoder) any {
	var out map[string]any
	for d.err == nil {
		c := d.blockCount(n.minSize, "map")
		if c == 0 {
			break
		}
		if out == nil {
			out = make(map[string]any, c)
		}
		for range c {
			k := d.lengthPrefixed("map key")
			v := n.values.read(d)
			if d.err != nil {
				return nil
			}
			out[string(k)] = v
		}
	}
	if d.err != nil {
		return nil
	}
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// recordStep handles one writer field: read it into the reader field name,
// or skip it when the reader does not know it.
type recordStep struct {
	name string
	node valueNode
	skip skipNode
}

// recordDefault fills a reader field that the writer lacks.
type recordDefault struct {
	name  string
	value any
	clone bool
}

type recordNode struct {
	steps    []recordStep
	defaults []recordDefault
	size     int
}

func (n *recordNode) read(d *decoder) any {
	if !d.enter() {
		return nil
	}
	defer d.leave()
	m := make(map[string]any, n.size)
	for i := range n.steps {
		s := &n.steps[i]
		if s.skip != nil {
			s.skip.skip(d)
		} else {
			m[s.name] = s.node.read(d)
		}
		if d.err != nil {
			return nil
		}
	}
	for i := range n.defaults {
		df := &n.defaults[i]
		if df.clone {
			m[df.name] = cloneValue(df.value)
		} else {
			m[df.name] = df.value
		}
	}
	return m
}

// unionNode reads a writer union: the branch index, then that branch.
type unionNode struct {
	branches []valueNode
}

func (n *unionNode) read(d *decoder) any {
	i := d.long("union index")
	if d.err != nil {
		return nil
	}
	if i < 0 || i >= int64(len(n.branches)) {
		d.fail("union index %d out of range [0, %d)", i, len(n.branches))
		return nil
	}
	return n.branches[i].read(d)
}

// branchNode adds the union branch name to the record read by node
// (BranchNames).
type branchNode struct {
	node valueNode
	name string
}

func (n *branchNode) read(d *decoder) any {
	v := n.node.read(d)
	if m, ok := v.(map[string]any); ok {
		m[BranchKey] = n.name
	}
	return v
}

// Skip nodes.

type skipBytes struct{ n int } // fixed-size values: boolean, float, double, fixed

func (s skipBytes) skip(d *decoder) { d.take(s.n, "value") }

type skipVarint struct{}

func (skipVarint) skip(d *decoder) { d.varint(10, "int/long") }

type skipLengthPrefixed struct{}

func (skipLengthPrefixed) skip(d *decoder) { d.lengthPrefixed("bytes/string") }

type skipArray struct {
	items   skipNode
	minSize int
	isMap   bool
}

func (s *skipArray) skip(d *decoder) {
	for d.err == nil {
		n := d.long("block count")
		if d.err != nil || n == 0 {
			return
		}
		if n < 0 {
			// A negative count is followed by the block's byte size, which
			// lets us jump over it.
			size := d.long("block size")
			if d.err == nil && (size < 0 || size > int64(d.remaining())) {
				d.fail("invalid block size %d with %d bytes left", size, d.remaining())
			}
			if n == math.MinInt64 {
				d.fail("invalid block count %d", n)
			}
			d.take(int(size), "block")
			continue
		}
		if s.minSize > 0 {
			if n > int64(d.remaining()/s.minSize) {
				d.fail("block of %d items cannot fit in %d bytes left", n, d.remaining())
				return
			}
		} else {
			if n > int64(maxZeroSizeItems-d.zeroItems) {
				d.fail("more than %d zero-size items in one value", maxZeroSizeItems)
				return
			}
			d.zeroItems += int(n)
		}
		for range n {
			if s.isMap {
				d.lengthPrefixed("map key")
			}
			s.items.skip(d)
			if d.err != nil {
				return
			}
		}
	}
}

type skipRecord struct{ fields []skipNode }

func (s *skipRecord) skip(d *decoder) {
	if !d.enter() {
		return
	}
	defer d.leave()
	for _, f := range s.fields {
		f.skip(d)
		if d.err != nil {
			return
		}
	}
}

type skipUnion struct{ branches []skipNode }

func (s *skipUnion) skip(d *decoder) {
	i := d.long("union index")
	if d.err != nil {
		return
	}
	if i < 0 || i >= int64(len(s.branches)) {
		d.fail("union index %d out of range [0, %d)", i, len(s.branches))
		return
	}
	s.branches[i].skip(d)
}

// cloneValue deep-copies the mutable parts of a decoded value, so that
// defaults shared by a compiled plan are never aliased by results.
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = cloneValue(e)
		}
		return s
	case []byte:
		return append([]byte{}, v...)
	}
	return v
}
