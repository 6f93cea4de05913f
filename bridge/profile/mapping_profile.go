package profile

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/expr-lang/expr/vm"

	"github.com/telebridge/telebridge/schemas"
)

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// mappingProfile runs a compiled Mapping.
type mappingProfile struct {
	m      *Mapping
	assets *assetCache
	pool   sync.Pool // *evalState
}

// NewMapping returns the profile running mapping m. Options.OwnerID is
// ignored (a mapping sets ownerId itself).
func NewMapping(m *Mapping, opts Options) Profile {
	maxAssets := opts.MaxAssets
	if maxAssets <= 0 {
		maxAssets = DefaultMaxAssets
	}
	p := &mappingProfile{m: m, assets: newAssetCache(maxAssets)}
	p.pool.New = func() any { return newEvalState() }
	return p
}

func (p *mappingProfile) Name() string   { return NameMapping }
func (p *mappingProfile) Format() Format { return p.m.format }

// HeaderUser is implemented by profiles that read Kafka headers; the
// pipeline fills Input.Headers only for those whose UsesHeaders is true.
type HeaderUser interface {
	UsesHeaders() bool
}

// UsesHeaders reports whether the mapping reads kafka.headers.
func (p *mappingProfile) UsesHeaders() bool { return p.m.usesHeaders }

// Mapping returns the compiled mapping.
func (p *mappingProfile) Mapping() *Mapping { return p.m }

// evalState is the per-goroutine evaluation state of one record.
type evalState struct {
	roots [numRoots]any
	env   map[string]any // the VM's view of roots
	kafka map[string]any
	vars  map[string]any
	// elemDirty says env lacks the current key, value and index.
	elemDirty bool
	// cur is the expression being evaluated (for failures, see run);
	// inEach says an each block's element is current.
	cur    *mexpr
	inEach bool
	// sortedSrc identifies the map whose sorted entries members holds.
	sortedSrc unsafe.Pointer
	// curLayout is the key layout of the map being iterated (nil for
	// arrays), layoutReused whether it came from the cache, elemIndex the
	// current entry's position in it.
	curLayout    *keyLayout
	layoutReused bool
	elemIndex    int
	// The last reading rendered by text or valueType (cachedReading).
	rtArg          any
	rtText, rtType string
	rtOK           bool
	args           []any
	vm             vm.VM
	members        []entry
}

func newEvalState() *evalState {
	st := &evalState{env: make(map[string]any, numRoots), kafka: make(map[string]any, 6), vars: make(map[string]any, 8)}
	st.roots[rootKafka] = st.kafka
	st.roots[rootVars] = st.vars
	st.env["kafka"] = st.kafka
	st.env["vars"] = st.vars
	return st
}

// reset drops every reference to the last record.
func (st *evalState) reset() {
	st.roots[rootRecord], st.roots[rootKey], st.roots[rootValue], st.roots[rootIndex] = nil, nil, nil, nil
	clear(st.env)
	st.env["kafka"] = st.kafka
	st.env["vars"] = st.vars
	clear(st.kafka)
	clear(st.vars)
	clear(st.members)
	st.members = st.members[:0]
	clear(st.args)
	st.args = st.args[:0]
	st.elemDirty = false
	st.cur = nil
	st.inEach = false
	st.sortedSrc = nil
	st.curLayout, st.layoutReused, st.elemIndex = nil, false, 0
	st.rtArg, st.rtText, st.rtType, st.rtOK = nil, "", "", false
}

func (st *evalState) setElem(key, value any, index int) {
	st.roots[rootKey], st.roots[rootValue], st.roots[rootIndex] = key, value, index
	st.elemIndex = index
	st.elemDirty = true
}

// eval evaluates e.
func (e *mexpr) eval(st *evalState) (v any, err error) {
	if e.fast != nil {
		defer func() {
			if r := recover(); r != nil {
				if re, ok := r.(error); ok {
					err = re
				} else {
					err = fmt.Errorf("%v", r)
				}
			}
		}()
		return e.fast(st), nil
	}
	if st.elemDirty {
		st.env["key"], st.env["value"], st.env["index"] = st.roots[rootKey], st.roots[rootValue], st.roots[rootIndex]
		st.elemDirty = false
	}
	st.env["record"] = st.roots[rootRecord]
	return st.vm.Run(e.prog, st.env)
}

// exprPanic carries an expression's error from run to Normalize.
type exprPanic struct{ err error }

// run evaluates e for the hot path: it records e as the expression being
// evaluated and panics on failure (fast-path nodes panic like the VM's
// runtime does); Normalize recovers and reports the failure with e's
// position, so a successful evaluation pays for no defer.
func (e *mexpr) run(st *evalState) any {
	st.cur = e
	if e.fast != nil {
		return e.fast(st)
	}
	if st.elemDirty {
		st.env["key"], st.env["value"], st.env["index"] = st.roots[rootKey], st.roots[rootValue], st.roots[rootIndex]
		st.elemDirty = false
	}
	st.env["record"] = st.roots[rootRecord]
	v, err := st.vm.Run(e.prog, st.env)
	if err != nil {
		panic(exprPanic{err})
	}
	return v
}

// runStr is run through fastStr.
func (e *mexpr) runStr(st *evalState) string {
	st.cur = e
	return e.fastStr(st)
}

// panicError converts a recovered value to an error.
func panicError(r any) error {
	switch x := r.(type) {
	case exprPanic:
		return x.err
	case error:
		return x
	}
	return fmt.Errorf("%v", r)
}

// elemDesc describes the current each element for an error, or "".
func (st *evalState) elemDesc() string {
	if !st.inEach {
		return ""
	}
	switch k := st.roots[rootKey].(type) {
	case string:
		return "key " + strconv.Quote(k)
	case int:
		return "element " + strconv.Itoa(k)
	}
	return ""
}

// evalStr evaluates e through fastStr.
func (e *mexpr) evalStr(st *evalState) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			if re, ok := r.(error); ok {
				err = re
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	return e.fastStr(st), nil
}

// failure is a runtime mapping error of expression e.
func (p *mappingProfile) failure(e *mexpr, elem string, msg string, err error) error {
	s := "expression " + strconv.Quote(e.src) + " (" + e.where() + ")"
	if elem != "" {
		s += " for " + elem
	}
	if msg != "" {
		s += ": " + msg
	}
	return &MappingError{Profile: NameMapping, Field: e.path, Msg: s, Err: err}
}

// Normalize maps one record with the mapping. Objects come in the order of
// objects:, each block in key or element order, every Asset last (emitted
// only when first seen or changed). It fails with a *MappingError naming
// the object field and expression when an expression fails or yields a
// value of the wrong kind, or a required field yields null.
func (p *mappingProfile) Normalize(in *Input, dst []schemas.Object) (out []schemas.Object, err error) {
	if in == nil {
		return dst, &MappingError{Profile: NameMapping, Field: fieldRoot, Msg: "no input"}
	}
	st := p.pool.Get().(*evalState)
	start := len(dst)
	defer func() {
		if r := recover(); r != nil {
			if st.cur != nil {
				err = p.failure(st.cur, "", "", panicError(r))
				if d := st.elemDesc(); d != "" {
					err = annotate(err, d)
				}
			} else {
				err = &MappingError{Profile: NameMapping, Field: fieldRoot, Msg: fmt.Sprintf("mapping panicked: %v", r)}
			}
		}
		if err != nil {
			clear(dst[start:])
			out = dst[:start]
		}
		st.reset()
		p.pool.Put(st)
	}()
	st.roots[rootRecord] = in.Value
	st.kafka["topic"] = in.Topic
	st.kafka["partition"] = int(in.Partition)
	st.kafka["offset"] = in.Offset
	if !in.Timestamp.IsZero() {
		st.kafka["timestamp"] = in.Timestamp.UTC()
	}
	if p.m.usesKey && in.Key != nil {
		st.kafka["key"] = string(in.Key)
	}
	if p.m.usesHeaders {
		h := make(map[string]any, len(in.Headers))
		for _, kv := range in.Headers {
			h[kv.Key] = string(kv.Value)
		}
		st.kafka["headers"] = h
	}
	for _, v := range p.m.vars {
		st.vars[v.name] = v.run(st)
	}
	var assets []*schemas.Asset
	for _, o := range p.m.objects {
		if o.each == nil {
			obj, ok, err := p.build(st, o, "")
			if err != nil {
				return dst, err
			}
			if ok {
				if a, isAsset := obj.(*schemas.Asset); isAsset {
					assets = append(assets, a)
				} else {
					dst = append(dst, obj)
				}
			}
			continue
		}
		dst, assets, err = p.each(st, o, dst, assets)
		if err != nil {
			return dst, err
		}
	}
	for _, a := range assets {
		var firstSeenNeeded bool
		if a.WhenCreated.IsZero() {
			firstSeenNeeded = true
		}
		now := in.Timestamp.UTC()
		if now.IsZero() {
			now = a.WhenUpdated
		}
		emit, firstSeen := p.assets.observe(a.ID, assetSum(a), now)
		if !emit {
			continue
		}
		if firstSeenNeeded {
			a.WhenCreated = firstSeen
		}
		dst = append(dst, a)
	}
	return dst, nil
}

// slab hands out SensorData and Location values from one allocation per
// each block.
type slab struct {
	sd  []schemas.SensorData
	loc []schemas.Location
}

func (s *slab) newObject(t schemas.Type) schemas.Object {
	switch t {
	case schemas.TypeSensorData:
		if len(s.sd) < cap(s.sd) {
			s.sd = s.sd[:len(s.sd)+1]
			return &s.sd[len(s.sd)-1]
		}
	case schemas.TypeLocation:
		if len(s.loc) < cap(s.loc) {
			s.loc = s.loc[:len(s.loc)+1]
			return &s.loc[len(s.loc)-1]
		}
	}
	o, _ := schemas.New(t)
	return o
}

// each builds one object per element of o.each.
func (p *mappingProfile) each(st *evalState, o *objSpec, dst []schemas.Object, assets []*schemas.Asset) ([]schemas.Object, []*schemas.Asset, error) {
	coll := o.each.run(st)
	var proto schemas.Object
	var sl slab
	n := 0
	switch c := coll.(type) {
	case nil:
		return dst, assets, nil
	case map[string]any:
		n = len(c)
		st.members, st.curLayout, st.layoutReused = sortedEntries(&o.layout, c, st.members[:0])
		st.sortedSrc = reflect.ValueOf(c).UnsafePointer()
	case []any:
		n = len(c)
	default:
		return dst, assets, p.failure(o.each, "", fmt.Sprintf("got %s, want an array or an object", describe(coll)), nil)
	}
	switch o.typ {
	case schemas.TypeSensorData:
		sl.sd = make([]schemas.SensorData, 0, n)
	case schemas.TypeLocation:
		sl.loc = make([]schemas.Location, 0, n)
	}
	visit := func(key, value any, index int, elem string) error {
		st.setElem(key, value, index)
		if o.when != nil {
			ok := o.when.run(st)
			b, isBool := ok.(bool)
			if !isBool {
				return p.failure(o.when, elem, fmt.Sprintf("got %s, want true or false", describe(ok)), nil)
			}
			if !b {
				return nil
			}
		}
		if proto == nil {
			// Fields that do not read key, value or index are evaluated
			// once, into a prototype every element starts from (so they
			// also share their converted values).
			proto, _ = schemas.New(o.typ)
			if _, err := p.fill(st, o, proto, "", hoistedFields); err != nil {
				return err
			}
		}
		obj := sl.newObject(o.typ)
		copyObject(obj, proto)
		obj, err := p.fill(st, o, obj, "", elemFields)
		if err != nil {
			return err
		}
		if a, isAsset := obj.(*schemas.Asset); isAsset {
			assets = append(assets, a)
		} else {
			dst = append(dst, obj)
		}
		return nil
	}
	st.inEach = true // cleared below; on a panic Normalize still needs it
	switch c := coll.(type) {
	case map[string]any:
		for i, mb := range st.members {
			if err := visit(mb.key, mb.value, i, ""); err != nil {
				return dst, assets, annotate(err, "key "+strconv.Quote(mb.name))
			}
		}
	case []any:
		for i, v := range c {
			if err := visit(i, v, i, ""); err != nil {
				return dst, assets, annotate(err, "element "+strconv.Itoa(i))
			}
		}
	}
	st.inEach = false
	st.curLayout, st.layoutReused = nil, false
	return dst, assets, nil
}

// annotate adds the each element to a mapping error.
func annotate(err error, elem string) error {
	if me, ok := err.(*MappingError); ok {
		me.Msg = "for " + elem + ": " + me.Msg
	}
	return err
}

// build evaluates a non-each object: its when, then its fields.
func (p *mappingProfile) build(st *evalState, o *objSpec, elem string) (schemas.Object, bool, error) {
	if o.when != nil {
		ok := o.when.run(st)
		b, isBool := ok.(bool)
		if !isBool {
			return nil, false, p.failure(o.when, elem, fmt.Sprintf("got %s, want true or false", describe(ok)), nil)
		}
		if !b {
			return nil, false, nil
		}
	}
	obj, _ := schemas.New(o.typ)
	obj, err := p.fill(st, o, obj, elem, allFields)
	return obj, err == nil, err
}

// Which fields fill assigns.
const (
	allFields = iota
	hoistedFields
	elemFields
)

// fill evaluates and assigns the fields of o selected by which into obj.
func (p *mappingProfile) fill(st *evalState, o *objSpec, obj schemas.Object, elem string, which int) (schemas.Object, error) {
	fields := o.fields
	switch which {
	case hoistedFields:
		fields = o.hoistedFields
	case elemFields:
		fields = o.elemFields
	}
	for _, f := range fields {
		if f.str != nil && f.e.fastStr != nil {
			s := f.e.runStr(st)
			if s == "" && f.required {
				return nil, p.failure(f.e, elem, "yielded empty text, but "+f.name+" is required", nil)
			}
			if s != "" {
				*f.str(obj) = s
			}
			continue
		}
		v := f.e.run(st)
		if text, ok := v.(string); ok && f.str != nil && text != "" {
			*f.str(obj) = text // what assign does for non-empty text
			continue
		}
		present, err := f.assign(obj, v)
		if err != nil {
			return nil, p.failure(f.e, elem, "", err)
		}
		if !present && f.required {
			return nil, p.failure(f.e, elem, "yielded "+describe(v)+", but "+f.name+" is required", nil)
		}
	}
	return obj, nil
}

// copyObject copies *src into *dst (both of one type).
func copyObject(dst, src schemas.Object) {
	switch d := dst.(type) {
	case *schemas.Asset:
		*d = *src.(*schemas.Asset)
	case *schemas.Location:
		*d = *src.(*schemas.Location)
	case *schemas.SensorData:
		*d = *src.(*schemas.SensorData)
	case *schemas.ReeferData:
		*d = *src.(*schemas.ReeferData)
	case *schemas.GensetData:
		*d = *src.(*schemas.GensetData)
	case *schemas.GtoemData:
		*d = *src.(*schemas.GtoemData)
	}
}

// assetSum fingerprints an Asset's content apart from whenUpdated.
func assetSum(a *schemas.Asset) uint64 {
	h := fnvOffset.str(a.ID).str(a.Name).str(a.OwnerID)
	if a.WhenCreated.IsZero() {
		h = h.str("")
	} else {
		h = h.int(a.WhenCreated.UnixNano())
	}
	h = h.opt(a.BoxID).opt(a.Note)
	switch {
	case a.Disabled == nil:
		h = h.str("")
	case *a.Disabled:
		h = h.str("t")
	default:
		h = h.str("f")
	}
	h = h.int(int64(len(a.Tags)))
	for _, t := range a.Tags {
		h = h.str(t)
	}
	return uint64(h)
}

// entry is one member of an iterated map; key is name boxed once.
type entry struct {
	name  string
	key   any
	value any
}

// keyLayout is the sorted key set of a recently iterated map, names and
// their boxed forms.
type keyLayout struct {
	names []string
	keys  []any
}

// sortedEntries appends the entries of m to buf in key order. Maps of one
// feed mostly share their key set, so it first tries the cached layout of
// the last map (one lookup per key, no sorting, no boxing); otherwise it
// sorts and caches the new layout. The cache only ever holds a correct
// sorted list, so the order never depends on it.
func sortedEntries(layout *atomic.Pointer[keyLayout], m map[string]any, buf []entry) ([]entry, *keyLayout, bool) {
	if l := layout.Load(); l != nil && len(l.names) == len(m) {
		out := buf
		for i, k := range l.names {
			v, ok := m[k]
			if !ok {
				out = nil
				break
			}
			out = append(out, entry{k, l.keys[i], v})
		}
		if out != nil {
			return out, l, true
		}
	}
	out := buf[:0]
	for k, v := range m {
		out = append(out, entry{name: k, value: v})
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	if len(out) > 4096 {
		for i := range out {
			out[i].key = out[i].name
		}
		return out, nil, false
	}
	// Cache a copy whose names share one allocation and none of the input.
	size := 0
	for _, e := range out {
		size += len(e.name)
	}
	var all strings.Builder
	all.Grow(size)
	for _, e := range out {
		all.WriteString(e.name)
	}
	text := all.String()
	l := &keyLayout{names: make([]string, len(out)), keys: make([]any, len(out))}
	off := 0
	for i, e := range out {
		l.names[i] = text[off : off+len(e.name)]
		l.keys[i] = l.names[i]
		off += len(e.name)
		out[i].key = l.keys[i]
	}
	layout.Store(l)
	return out, l, false
}

// Types implements Profile: the types of the mapping's objects, in
// canonical order.
func (p *mappingProfile) Types() []schemas.Type { return p.m.Types() }

// MessageID implements Profile. A mapping declares no message id of its
// feed, so objects carry none.
func (p *mappingProfile) MessageID(*Input) string { return "" }
