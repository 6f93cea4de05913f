package config

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/schemas"
)

// This file holds the checks that need the routing between sources and
// sinks: which object types reach each sink, the Kafka key path, the
// effective eventId injection and the warnings about types no sink takes.
// The bridge uses the same functions at start (EventIDInjection), so a
// config that validates does not fail there for these reasons.

// SourceSinks returns the sinks src routes to (sources[].sinks resolved by
// name; unknown names are left out).
func (c *Config) SourceSinks(src *Source) []*Sink {
	var out []*Sink
	for _, name := range src.Sinks {
		for _, s := range c.Sinks {
			if s != nil && s.Name == name {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// ProducedTypes returns the object types the source can produce, as
// sinks[].types names: its mapping's types for profile mapping (nil until
// the mapping compiled), else its profile's (profile.TypesOf); nil for an
// unknown profile.
func (s *Source) ProducedTypes() []string {
	var ts []schemas.Type
	if s.compiled != nil {
		ts = s.compiled.Types()
	} else {
		var err error
		if ts, err = profile.TypesOf(s.Profile); err != nil {
			return nil
		}
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// RoutedTypes returns the object types that can reach s: those of its
// types that the profile of at least one source routing to it can
// produce, in canonical order. fed is false when no source routes to s.
func (c *Config) RoutedTypes(s *Sink) (types []string, fed bool) {
	produced := map[string]bool{}
	for _, src := range c.Sources {
		if src == nil || !slices.Contains(src.Sinks, s.Name) {
			continue
		}
		fed = true
		for _, t := range src.ProducedTypes() {
			produced[t] = true
		}
	}
	for _, t := range ObjectTypes() {
		if produced[t] && s.Accepts(t) {
			types = append(types, t)
		}
	}
	return types, fed
}

// Unrouted returns the object types the profile of src can produce that
// none of its sinks accepts, in canonical order: such objects are dropped
// (and counted) at run time.
func (c *Config) Unrouted(src *Source) []string {
	sinks := c.SourceSinks(src)
	var out []string
	for _, t := range src.ProducedTypes() {
		if !slices.ContainsFunc(sinks, func(s *Sink) bool { return s.Accepts(t) }) {
			out = append(out, t)
		}
	}
	return out
}

// Warnings returns what is legal but probably a mistake, located like
// validation errors: today, every source whose profile can produce object
// types that none of its sinks accepts (those objects would be dropped,
// counted in telebridge_objects_unrouted_total). `telebridge validate`
// prints them and still exits 0; `telebridge run` logs them at start.
func (c *Config) Warnings() []*FieldError {
	if c == nil {
		return nil
	}
	m := c.meta
	if m == nil {
		m = newMeta()
		m.rootLine = 0
	}
	var out []*FieldError
	for i, src := range c.Sources {
		if src == nil {
			continue
		}
		lost := c.Unrouted(src)
		if len(lost) == 0 {
			continue
		}
		p := joinIndex("sources", i) + ".sinks"
		// Names that came from the environment are not shown, as in errors.
		names := make([]string, 0, len(src.Sinks))
		for j, name := range src.Sinks {
			if vars := m.envVars(joinIndex(p, j)); len(vars) > 0 {
				name = "value of " + refs(vars)
			}
			names = append(names, name)
		}
		verb := "accepts"
		if len(names) > 1 {
			verb = "accept"
		}
		out = append(out, &FieldError{File: c.File, Line: m.line(p), Path: p, Msg: fmt.Sprintf(
			"profile %s produces %s, which none of the source's sinks (%s) %s: those objects are dropped, counted in telebridge_objects_unrouted_total; add the types to a sink's types or route the source to a sink that takes them",
			src.Profile, strings.Join(lost, ", "), orNone(names), verb)})
	}
	return out
}

// EventIDInjection is a sink's effective eventId injection, as the bridge
// applies it.
type EventIDInjection struct {
	// Field is the payload member the eventId is injected under; "" means
	// no injection (the eventId still travels as a header or user
	// property).
	Field string
	// Env is the environment variable that decided (MQTT_SET_EVENT_ID or
	// KAFKA_SET_EVENT_ID), or "" when the file's event_id block did.
	Env string
	// Why says in one sentence where Field comes from when the
	// environment was involved; "" when only the file decided.
	Why string
}

// EnvSetEventID returns the environment variable that switches eventId
// injection for sinks of s's type: MQTT_SET_EVENT_ID for mqtt,
// KAFKA_SET_EVENT_ID for kafka.
func (s *Sink) EnvSetEventID() string {
	if s.Type == SinkMQTT {
		return EnvMQTTSetEventID
	}
	return EnvKafkaSetEventID
}

// EventIDInjection resolves s's eventId injection from its event_id block
// and its type's environment variable (see EnvSetEventID), read through
// lookupEnv (nil means no environment):
//
//   - unset, "", "false", "0", "no" or "off": the file decides
//     (event_id.inject, under event_id.field);
//   - "true", "1", "yes" or "on": injection on, under event_id.field
//     (default eventId);
//   - any other identifier: injection on under that name, which wins over
//     event_id.field: the push specification defines the variable as
//     naming the field, and the environment is the deployment's override
//     of the file.
//
// Any other value is an error naming the variable.
func (s *Sink) EventIDInjection(lookupEnv func(string) (string, bool)) (EventIDInjection, error) {
	file := EventIDInjection{}
	if s.EventID.Inject {
		file.Field = s.EventID.Field
	}
	if lookupEnv == nil {
		return file, nil
	}
	name := s.EnvSetEventID()
	raw, ok := lookupEnv(name)
	if !ok {
		return file, nil
	}
	v := strings.TrimSpace(raw)
	field := s.EventID.Field
	if field == "" {
		field = DefaultEventIDField
	}
	switch strings.ToLower(v) {
	case "", "false", "0", "no", "off":
		if s.EventID.Inject {
			file.Why = fmt.Sprintf("%s=%s does not turn injection off; event_id.inject: true decides", name, strconv.Quote(v))
		} else {
			file.Why = fmt.Sprintf("%s=%s leaves injection off, as event_id.inject: false says", name, strconv.Quote(v))
		}
		return file, nil
	case "true", "1", "yes", "on":
		return EventIDInjection{Field: field, Env: name, Why: fmt.Sprintf("%s=%s turns injection on under event_id.field %s", name, v, strconv.Quote(field))}, nil
	}
	if !identifier(v) {
		// The value is not echoed: errors never show environment values.
		return EventIDInjection{}, fmt.Errorf("environment variable %s is not a field name: want an identifier such as eventId, true (inject under event_id.field) or false", name)
	}
	why := fmt.Sprintf("%s=%s turns injection on and names the field", name, v)
	if v != field {
		why = fmt.Sprintf("%s=%s names the field and wins over event_id.field %s: the push specification makes the variable name the field, and the environment overrides the file", name, v, strconv.Quote(field))
	}
	return EventIDInjection{Field: v, Env: name, Why: why}, nil
}

// EventIDField returns the payload member the eventId is injected under
// for this sink, or "" for none; see EventIDInjection for the rules.
func (s *Sink) EventIDField(lookupEnv func(string) (string, bool)) (string, error) {
	inj, err := s.EventIDInjection(lookupEnv)
	return inj.Field, err
}

// EventIDInjection resolves s's eventId injection with the environment
// the configuration was loaded with (the lookup given to Load or Parse;
// os.LookupEnv for a Config built in code). Validate and the bridge both
// call it, so they agree.
func (c *Config) EventIDInjection(s *Sink) (EventIDInjection, error) {
	return s.EventIDInjection(c.env())
}

// env is the environment lookup of the configuration.
func (c *Config) env() func(string) (string, bool) {
	if c.lookup != nil {
		return c.lookup
	}
	return os.LookupEnv
}

// routing checks what needs the routes: Kafka key paths and the eventId
// injection of every sink against the types that reach it.
func (v *validator) routing() {
	for i, s := range v.c.Sinks {
		if s == nil || s.Name == "" {
			continue
		}
		p := joinIndex("sinks", i)
		types, fed := v.c.RoutedTypes(s)
		if !fed {
			types = slices.DeleteFunc(slices.Clone(s.Types), func(t string) bool { return !slices.Contains(ObjectTypes(), t) })
		}
		if s.Type == SinkKafka && s.Key != "" && fieldPath(s.Key) {
			v.keyPath(p+".key", s.Key, types)
		}
		if s.Type == SinkKafka || s.Type == SinkMQTT {
			v.eventIDClash(p, s, types)
		}
	}
}

// keyPath checks that key addresses a field of at least one of types
// (schemas.ValidFieldPath, the check the Kafka sink makes at start over
// every type).
func (v *validator) keyPath(path, key string, types []string) {
	if len(types) == 0 {
		return
	}
	var first error
	for _, t := range types {
		err := schemas.ValidFieldPath(schemas.Type(t), key)
		if err == nil {
			return
		}
		if first == nil {
			first = err
		}
	}
	v.add(path, "%s addresses no field of the types routed to this sink (%s): %s",
		v.show(path, key), strings.Join(types, ", "), strings.TrimPrefix(first.Error(), "schemas: "))
}

// eventIDClash resolves the sink's eventId injection as the bridge does
// and rejects a field that is a member of a type routed to the sink: the
// encoder never overrides object data, so nothing would be injected.
func (v *validator) eventIDClash(p string, s *Sink, types []string) {
	inj, err := v.c.EventIDInjection(s)
	if err != nil {
		v.add(p+".event_id", "%v", err)
		return
	}
	if inj.Field == "" || !identifier(inj.Field) {
		return
	}
	var clash []string
	for _, t := range types {
		if schemas.HasField(schemas.Type(t), inj.Field) {
			clash = append(clash, t)
		}
	}
	if len(clash) == 0 {
		return
	}
	if inj.Env != "" {
		v.add(p+".event_id", "%s=%s clashes with a field of %s routed to this sink: the eventId would not be injected there; name another field, e.g. eventId",
			inj.Env, strconv.Quote(inj.Field), strings.Join(clash, ", "))
		return
	}
	fp := p + ".event_id.field"
	v.add(fp, "%s clashes with a field of %s routed to this sink: the eventId would not be injected there; choose another name, e.g. eventId",
		v.show(fp, inj.Field), strings.Join(clash, ", "))
}
