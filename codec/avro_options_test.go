package codec

import (
	"reflect"
	"testing"
)

const (
	optReader = `{"type":"record","name":"M","fields":[
		{"name":"known","type":["null",{"type":"record","name":"G","fields":[{"name":"v","type":"long"}]}],"default":null},
		{"name":"vals","type":["null",
			{"type":"record","name":"Plain","fields":[{"name":"value","type":"double"}]},
			{"type":"record","name":"MinMax","fields":[{"name":"lo","type":"double"},{"name":"hi","type":"double"}]},
			{"type":"record","name":"Accumulated","fields":[{"name":"value","type":"double"}]}],"default":null},
		{"name":"one","type":["null",{"type":"record","name":"Solo","fields":[{"name":"x","type":"long"}]}],"default":null}]}`
	// The writer adds a top-level field and a member of G, and writes G.v
	// as an int (promoted to the reader's long).
	optWriter = `{"type":"record","name":"M","fields":[
		{"name":"known","type":["null",{"type":"record","name":"G","fields":[{"name":"v","type":"int"},{"name":"extra","type":"string"}]}],"default":null},
		{"name":"vals","type":["null",
			{"type":"record","name":"Plain","fields":[{"name":"value","type":"double"}]},
			{"type":"record","name":"MinMax","fields":[{"name":"lo","type":"double"},{"name":"hi","type":"double"}]},
			{"type":"record","name":"Accumulated","fields":[{"name":"value","type":"double"}]}],"default":null},
		{"name":"one","type":["null",{"type":"record","name":"Solo","fields":[{"name":"x","type":"long"}]}],"default":null},
		{"name":"NewInsight","type":["null",{"type":"record","name":"Reading","fields":[{"name":"Level","type":"float"},{"name":"Unit","type":"string"},{"name":"datetime","type":"long"}]}],"default":null}]}`
)

func TestDecodeOptions(t *testing.T) {
	w, r := mustParse(t, optWriter), mustParse(t, optReader)
	in := map[string]any{
		"known":      map[string]any{"v": int64(3), "extra": "e"},
		"vals":       branch{3, map[string]any{"value": 2.5}},
		"one":        map[string]any{"x": int64(1)},
		"NewInsight": map[string]any{"Level": 1.5, "Unit": "bar", "datetime": int64(7)},
	}
	payload := encodeAvro(t, w, in)
	tests := []struct {
		name   string
		reader bool
		opts   []DecodeOption
		want   map[string]any
	}{
		{"pinned, no options: unknown fields skipped, branch lost", true, nil, map[string]any{
			"known": map[string]any{"v": int64(3)}, "vals": map[string]any{"value": 2.5}, "one": map[string]any{"x": int64(1)}}},
		{"pinned, KeepUnknownFields", true, []DecodeOption{KeepUnknownFields()}, map[string]any{
			"known": map[string]any{"v": int64(3), "extra": "e"}, "vals": map[string]any{"value": 2.5}, "one": map[string]any{"x": int64(1)},
			"NewInsight": map[string]any{"Level": 1.5, "Unit": "bar", "datetime": int64(7)}}},
		{"pinned, BranchNames", true, []DecodeOption{BranchNames()}, map[string]any{
			"known": map[string]any{"v": int64(3)}, "vals": map[string]any{"value": 2.5, BranchKey: "Accumulated"}, "one": map[string]any{"x": int64(1)}}},
		{"generic, both", false, []DecodeOption{KeepUnknownFields(), BranchNames()}, map[string]any{
			"known": map[string]any{"v": int64(3), "extra": "e"}, "vals": map[string]any{"value": 2.5, BranchKey: "Accumulated"}, "one": map[string]any{"x": int64(1)},
			"NewInsight": map[string]any{"Level": 1.5, "Unit": "bar", "datetime": int64(7)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := r
			if !tt.reader {
				reader = nil
			}
			p, err := NewPlan(w, reader, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}

	// Every branch of the ambiguous union carries its own name; the plain
	// and accumulated branches no longer look alike.
	p, err := NewPlan(w, r, BranchNames())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []map[string]any{
		{"value": 1.0, BranchKey: "Plain"},
		{"lo": 1.0, "hi": 2.0, BranchKey: "MinMax"},
		{"value": 1.0, BranchKey: "Accumulated"},
	} {
		v := map[string]any{"value": 1.0}
		if i == 1 {
			v = map[string]any{"lo": 1.0, "hi": 2.0}
		}
		got, err := p.Decode(encodeAvro(t, w, map[string]any{"vals": branch{i + 1, v}}))
		if err != nil {
			t.Fatal(err)
		}
		if g := got.(map[string]any)["vals"]; !reflect.DeepEqual(g, want) {
			t.Errorf("branch %d: got %#v, want %#v", i+1, g, want)
		}
	}
}

func TestBranchNamesWriterNotAUnion(t *testing.T) {
	// A writer that sends one record type where the reader has the
	// ambiguous union: the value still says which reader branch it is.
	w := mustParse(t, `{"type":"record","name":"M","fields":[{"name":"vals","type":{"type":"record","name":"Accumulated","fields":[{"name":"value","type":"double"}]}}]}`)
	r := mustParse(t, optReader)
	p, err := NewPlan(w, r, BranchNames())
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Decode(encodeAvro(t, w, map[string]any{"vals": map[string]any{"value": 4.0}}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"known": nil, "one": nil, "vals": map[string]any{"value": 4.0, BranchKey: "Accumulated"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}
