package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/compat"
)

// ClassIncompatibleSchema is the dead-letter class of records whose writer
// schema the profile's pinned reader schema cannot read.
const ClassIncompatibleSchema = "incompatible-schema"

// HeaderSchemaIncompatibilities carries, on dead letters of class
// incompatible-schema, the incompatibilities as a JSON array of
// {"type", "location", "writerLocation", "message"} objects (locations are
// JSON pointers into the reader and the writer schema).
const HeaderSchemaIncompatibilities = "telebridge.schema.incompatibilities"

// IncompatibleSchemaError reports that a writer schema cannot be read with
// the profile's pinned reader schema.
type IncompatibleSchemaError struct {
	SchemaID          int
	Profile           string
	Incompatibilities []compat.Incompatibility
}

// maxListed bounds the incompatibilities an error text lists; the
// dead-letter header carries them all.
const maxListed = 20

// Error lists the incompatibilities (the first maxListed of them).
func (e *IncompatibleSchemaError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "writer schema id %d is incompatible with the pinned reader schema of profile %s (%d incompatibilities): ", e.SchemaID, e.Profile, len(e.Incompatibilities))
	for i, inc := range e.Incompatibilities {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(e.Incompatibilities)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(inc.String())
	}
	return b.String()
}

// headerValue renders the incompatibilities for HeaderSchemaIncompatibilities.
func (e *IncompatibleSchemaError) headerValue() []byte {
	v, err := json.Marshal(e.Incompatibilities)
	if err != nil { // cannot happen: plain strings
		return []byte("[]")
	}
	return v
}

// schemaGuard decides once per writer schema id whether a source's profile
// can read it: the compat package checks the pinned reader schema against
// the writer schema. It runs before decoding in both decode modes: in
// pinned mode the writer is resolved into the reader schema, and in writer
// mode the profile's mapping still expects the reader schema's field types,
// so an incompatible writer would be mis-read either way. Verdicts are
// cached per id (ids never change); registry failures are not.
type schemaGuard struct {
	reg      *codec.Registry
	reader   *compat.Schema
	profile  string
	log      *zap.Logger
	verdicts sync.Map       // schema id -> error (nil: compatible)
	count    *atomic.Uint64 // incompatible writer schema ids seen
}

func newSchemaGuard(reg *codec.Registry, readerText, profile string, log *zap.Logger, count *atomic.Uint64) (*schemaGuard, error) {
	r, err := compat.Parse([]byte(readerText))
	if err != nil {
		return nil, fmt.Errorf("pinned reader schema of profile %s: %w", profile, err)
	}
	return &schemaGuard{reg: reg, reader: r, profile: profile, log: log, count: count}, nil
}

// admit returns nil when records of writer schema id may be decoded, an
// *IncompatibleSchemaError when they must not, or the registry's error
// (a *codec.Error for poison, else a "stop" error wrapping ctx.Err()), as
// AvroDecoder.Decode would return it.
func (g *schemaGuard) admit(ctx context.Context, id int) error {
	if v, ok := g.verdicts.Load(id); ok {
		if v == nil {
			return nil
		}
		return v.(error)
	}
	w, err := g.reg.Schema(ctx, id)
	if err != nil {
		return err
	}
	// The registry's schemas come parsed by hamba/avro; its canonical text
	// keeps everything a writer schema contributes to resolution.
	ws, err := compat.ParseWith([]byte(w.String()), compat.ParseOptions{SkipDefaultValidation: true})
	var verdict error
	if err != nil {
		verdict = &codec.Error{Class: codec.ClassUnsupportedSchema, SchemaID: id, Err: fmt.Errorf("writer schema id %d cannot be checked for compatibility: %w", id, err)}
	} else if incs := compat.Check(g.reader, ws); len(incs) > 0 {
		verdict = &IncompatibleSchemaError{SchemaID: id, Profile: g.profile, Incompatibilities: incs}
	}
	if prev, loaded := g.verdicts.LoadOrStore(id, any(verdict)); loaded {
		if prev == nil {
			return nil
		}
		return prev.(error)
	}
	if ise, ok := verdict.(*IncompatibleSchemaError); ok {
		g.count.Add(1)
		g.log.Error("writer schema is incompatible with the profile's reader schema; its records will not be decoded",
			zap.Int("schema_id", id), zap.String("profile", g.profile), zap.Int("incompatibilities", len(ise.Incompatibilities)), zap.Error(ise))
	} else if verdict == nil {
		g.log.Debug("writer schema is compatible with the profile's reader schema", zap.Int("schema_id", id))
	}
	return verdict
}

// guardedDecode wraps an Avro decode function with g: records whose writer
// schema is incompatible are never decoded.
func guardedDecode(g *schemaGuard, decode decodeFunc) decodeFunc {
	return func(ctx context.Context, value []byte) (any, int, error) {
		id, _, err := codec.ParseWire(value)
		if err != nil {
			return decode(ctx, value) // the decoder classifies bad wire format
		}
		if err := g.admit(ctx, id); err != nil {
			return nil, id, err
		}
		return decode(ctx, value)
	}
}
