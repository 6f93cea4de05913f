package profile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/schemas"
)

// fuzzProfile feeds arbitrary JSON objects (numbers as json.Number) to a
// profile: it must never panic, fail only with a *MappingError, and
// otherwise produce objects that validate once ids are assigned.
func fuzzProfile(f *testing.F, name string, seeds ...string) {
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"vin":"V","fleet_id":"F","latitude":"1e400","longitude":"0"}`))
	f.Add([]byte(`{"Metadata":{"MachineId":"m"},"X":{"V":1,"datetime":"2025-01-01T00:00:00Z"}}`))
	p := newProfile(f, name, profile.Options{MaxAssets: 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		objs, err := p.Normalize(&profile.Input{Topic: "fuzz", Timestamp: ts, Value: v}, nil)
		if err != nil {
			var me *profile.MappingError
			if !errors.As(err, &me) || len(objs) != 0 {
				t.Fatalf("error %v (%T) with %d objects", err, err, len(objs))
			}
			return
		}
		for i, o := range objs {
			o.SetRecordID(int64(i + 1))
			if err := o.Validate(); err != nil {
				t.Fatalf("object %d: %v", i, err)
			}
			if !json.Valid(o.AppendJSON(nil, "", "")) {
				t.Fatalf("object %d: invalid JSON", i)
			}
			if _, isAsset := o.(*schemas.Asset); isAsset && i != len(objs)-1 {
				t.Fatal("asset not last")
			}
		}
	})
}

func FuzzNormalizeMobito(f *testing.F) {
	fuzzProfile(f, profile.NameMobito, "../../testdata/mobito/sample.json")
}

func FuzzNormalizeTrackunit(f *testing.F) {
	fuzzProfile(f, profile.NameTrackunit, "../../testdata/trackunit/sample.json")
}
