package compat

import (
	"errors"
	"testing"
)

// FuzzParseCheck feeds arbitrary documents to Parse and every pair that
// parses to Check and CheckLevel: malformed schemas must give a
// *ParseError, never a panic or a hang, and findings must map to positions.
func FuzzParseCheck(f *testing.F) {
	for _, tc := range pairCases {
		f.Add([]byte(tc.reader), []byte(tc.writer))
	}
	f.Add([]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":["null","R"]}]}`), []byte(`{"type":"record","name":"R","fields":[{"name":"a","type":"R"}]}`))
	f.Add([]byte(`{"type":`), []byte(`[[[`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ra, errA := Parse(a)
		rb, errB := Parse(b)
		for _, err := range []error{errA, errB} {
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe != nil && (pe.Line < 1 || pe.Column < 1) {
				t.Fatalf("bad position in %v", pe)
			}
		}
		if errA != nil || errB != nil {
			return
		}
		for _, inc := range Check(ra, rb) {
			if inc.Type == "" || inc.Message == "" {
				t.Fatalf("empty incompatibility %+v", inc)
			}
			if _, _, ok := ra.Position(inc.Location); !ok {
				t.Fatal("no position")
			}
			if _, _, ok := rb.Position(inc.WriterLocation); !ok {
				t.Fatal("no writer position")
			}
		}
		if len(Check(ra, ra)) != 0 {
			t.Fatalf("schema does not read itself: %s", a)
		}
		if _, err := CheckLevel(FullTransitive, ra, []Version{{Label: "b", Schema: rb}, {Label: "a", Schema: ra}}); err != nil {
			t.Fatal(err)
		}
	})
}
