package profile_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/fleet"
	"github.com/telebridge/telebridge/schemas"
)

// TestTypesDeclared holds each profile to its declared types: over its
// sample and a generated fleet, every type it produces is declared (else
// routing warnings would miss it) and every declared type is produced
// (else validate would warn about a type that never comes).
func TestTypesDeclared(t *testing.T) {
	s := readerSchema(t)
	f := fleet.New(fleet.Config{Machines: 4, Vehicles: 4, Seed: 7})
	inputs := map[string][]map[string]any{
		profile.NameTrackunit: {sampleValue(t)},
		profile.NameMobito:    {decodeJSONFile(t, "../../testdata/mobito/sample.json")},
	}
	for range 300 {
		b, err := f.NextTrackunitAvro(1)
		if err != nil {
			t.Fatal(err)
		}
		var generic any
		if err := avro.Unmarshal(s, b[5:], &generic); err != nil {
			t.Fatal(err)
		}
		inputs[profile.NameTrackunit] = append(inputs[profile.NameTrackunit], codecValue(s, generic).(map[string]any))
		inputs[profile.NameMobito] = append(inputs[profile.NameMobito], decodeJSON(t, f.NextMobitoJSON()))
	}
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			p := newProfile(t, name, profile.Options{})
			declared, err := profile.TypesOf(name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Types(), declared) {
				t.Fatalf("Types() = %v, TypesOf = %v", p.Types(), declared)
			}
			if !slices.IsSortedFunc(declared, func(a, b schemas.Type) int {
				return slices.Index(schemas.AllTypes(), a) - slices.Index(schemas.AllTypes(), b)
			}) {
				t.Errorf("declared types %v are not in canonical order", declared)
			}
			seen := map[schemas.Type]bool{}
			for i, v := range inputs[name] {
				in := trackunitInput(v)
				if name == profile.NameMobito {
					in = mobitoInput(v)
				}
				in.Offset = int64(i)
				objs, err := p.Normalize(in, nil)
				if err != nil {
					t.Fatalf("input %d: %v", i, err)
				}
				for _, o := range objs {
					if !slices.Contains(declared, o.ObjectType()) {
						t.Fatalf("input %d: produced %s, which %s does not declare (%v): add it to Types", i, o.ObjectType(), name, declared)
					}
					seen[o.ObjectType()] = true
				}
			}
			for _, ty := range declared {
				if !seen[ty] {
					t.Errorf("declares %s but produced none over %d inputs", ty, len(inputs[name]))
				}
			}
		})
	}
	if _, err := profile.TypesOf("generic"); err == nil || !strings.Contains(err.Error(), "allowed: trackunit-insights, mobito") {
		t.Errorf("TypesOf(unknown) error = %v", err)
	}
}
