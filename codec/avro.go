package codec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hamba/avro/v2"
)

// AvroDecoder decodes Confluent wire-format Avro values, looking writer
// schemas up in a Registry. It is safe for concurrent use.
type AvroDecoder struct {
	reg    *Registry
	reader avro.Schema
	opts   []DecodeOption
	plans  sync.Map // schema id -> *planEntry
	hits   atomic.Uint64
}

// CacheHits counts the values whose writer schema was already resolved
// (no registry look-up needed).
func (a *AvroDecoder) CacheHits() uint64 { return a.hits.Load() }

// planEntry caches the outcome of compiling one writer schema: ids never
// change, so an incompatible writer stays incompatible.
type planEntry struct {
	plan *Plan
	err  error
}

// NewAvroDecoder returns a decoder that resolves every writer schema into
// reader. A nil reader means generic mode: values are decoded with the writer
// schema as it is, so every writer field comes through. opts apply to
// every plan (see KeepUnknownFields and BranchNames).
func NewAvroDecoder(reg *Registry, reader avro.Schema, opts ...DecodeOption) *AvroDecoder {
	return &AvroDecoder{reg: reg, reader: reader, opts: opts}
}

// Decode decodes one Kafka record value in the Confluent wire format and
// returns the plain value described on Plan and the schema id it carried.
//
// Poison input fails with an *Error: ClassBadMagic (not wire format),
// ClassUnknownSchema (the registry does not know the id), ClassUnsupportedSchema
// (the writer schema is not Avro, does not parse, or is incompatible with the
// pinned reader schema) or ClassCorruptAvro (the payload does not match the
// writer schema, including trailing bytes). While the registry is unreachable
// Decode blocks, retrying, until ctx is done and then returns an error that
// wraps ctx.Err() and is not an *Error: stop, do not dead-letter. The
// outcome of compiling a writer schema, including incompatibility, is cached
// per id; registry failures are not.
func (a *AvroDecoder) Decode(ctx context.Context, value []byte) (v any, schemaID int, err error) {
	id, payload, err := ParseWire(value)
	if err != nil {
		return nil, 0, err
	}
	p, err := a.plan(ctx, id)
	if err != nil {
		return nil, id, err
	}
	v, err = p.Decode(payload)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.SchemaID = id
		}
		return nil, id, err
	}
	return v, id, nil
}

// Plan returns the compiled plan for writer schema id, fetching the schema
// if needed. Errors are those of Decode other than ClassBadMagic and
// ClassCorruptAvro.
func (a *AvroDecoder) Plan(ctx context.Context, id int) (*Plan, error) {
	return a.plan(ctx, id)
}

func (a *AvroDecoder) plan(ctx context.Context, id int) (*Plan, error) {
	if e, ok := a.plans.Load(id); ok {
		a.hits.Add(1)
		pe := e.(*planEntry)
		return pe.plan, pe.err
	}
	w, err := a.reg.Schema(ctx, id)
	if err != nil {
		return nil, err
	}
	pe := &planEntry{}
	pe.plan, pe.err = newPlan(w, a.reader, a.opts)
	if pe.err != nil {
		what := "is not decodable"
		if a.reader != nil {
			what = "is incompatible with the pinned reader schema"
		}
		pe.plan, pe.err = nil, &Error{Class: ClassUnsupportedSchema, SchemaID: id,
			Err: fmt.Errorf("writer schema id %d %s: %w", id, what, pe.err)}
	}
	e, _ := a.plans.LoadOrStore(id, pe)
	pe = e.(*planEntry)
	return pe.plan, pe.err
}
