package compat

import (
	"fmt"
	"testing"
)

func versions(t *testing.T, ss ...string) []Version {
	t.Helper()
	var out []Version
	for i, s := range ss {
		out = append(out, Version{Label: fmt.Sprintf("v%d", i+1), Schema: mustParse(t, s)})
	}
	return out
}

// The level facts of Confluent Schema Registry's AvroCompatibilityTest
// (existing versions oldest first, the last one is the latest), plus the
// same histories at every other level.
func TestLevels(t *testing.T) {
	cases := []struct {
		level     Level
		candidate string
		existing  []string
		want      bool
	}{
		// BACKWARD
		{Backward, cfSchema2, []string{cfSchema1}, true},            // add field with default
		{Backward, cfSchema3, []string{cfSchema1}, false},           // add field without default
		{Backward, cfSchema4, []string{cfSchema1}, true},            // rename with alias
		{Backward, cfSchema6, []string{cfSchema1}, true},            // field to union
		{Backward, cfSchema1, []string{cfSchema6}, false},           // union to field
		{Backward, cfSchema7, []string{cfSchema6}, true},            // add union branch
		{Backward, cfSchema6, []string{cfSchema7}, false},           // remove union branch
		{Backward, cfSchema3, []string{cfSchema1, cfSchema2}, true}, // only the latest is checked
		{Backward, cfSchema3, []string{}, true},                     // first version
		{Backward, cfSchema1, []string{cfSchema3, cfSchema1}, true}, // latest only
		// BACKWARD_TRANSITIVE
		{BackwardTransitive, cfSchema8, []string{cfSchema1, cfSchema2}, true},
		{BackwardTransitive, cfSchema2, []string{cfSchema1}, true},
		{BackwardTransitive, cfSchema3, []string{cfSchema2}, true},
		{BackwardTransitive, cfSchema3, []string{cfSchema2, cfSchema1}, false},
		{BackwardTransitive, cfSchema3, []string{cfSchema1, cfSchema2}, false},
		// FORWARD
		{Forward, cfSchema2, []string{cfSchema1}, true},
		{Forward, cfSchema3, []string{cfSchema1}, true},
		{Forward, cfSchema3, []string{cfSchema2}, true},
		{Forward, cfSchema2, []string{cfSchema3}, true},
		{Forward, cfSchema1, []string{cfSchema3, cfSchema2}, true}, // only the latest
		{Forward, cfSchema1, []string{cfSchema3}, false},           // v3 cannot read v1 data: f2 has no default
		{Forward, cfSchema6, []string{cfSchema1}, false},           // old string field cannot read a union with null
		{Forward, cfSchema1, []string{cfSchema6}, true},
		// FORWARD_TRANSITIVE
		{ForwardTransitive, cfSchema1, []string{cfSchema8, cfSchema2}, true},
		{ForwardTransitive, cfSchema2, []string{cfSchema3}, true},
		{ForwardTransitive, cfSchema1, []string{cfSchema2}, true},
		{ForwardTransitive, cfSchema1, []string{cfSchema2, cfSchema3}, false},
		{ForwardTransitive, cfSchema1, []string{cfSchema3, cfSchema2}, false},
		// FULL
		{Full, cfSchema2, []string{cfSchema1}, true},
		{Full, cfSchema3, []string{cfSchema1, cfSchema2}, true},
		{Full, cfSchema1, []string{cfSchema3, cfSchema2}, true},
		{Full, cfSchema3, []string{cfSchema1}, false}, // backward half fails
		{Full, cfSchema1, []string{cfSchema3}, false}, // forward half fails
		{Full, cfSchema7, []string{cfSchema6}, false}, // old union lacks int
		// FULL_TRANSITIVE
		{FullTransitive, cfSchema8, []string{cfSchema1, cfSchema2}, true},
		{FullTransitive, cfSchema1, []string{cfSchema8, cfSchema2}, true},
		{FullTransitive, cfSchema2, []string{cfSchema3}, true},
		{FullTransitive, cfSchema1, []string{cfSchema2}, true},
		{FullTransitive, cfSchema2, []string{cfSchema1}, true},
		{FullTransitive, cfSchema3, []string{cfSchema2}, true},
		{FullTransitive, cfSchema3, []string{cfSchema2, cfSchema1}, false},
		{FullTransitive, cfSchema1, []string{cfSchema2, cfSchema3}, false},
		// NONE
		{None, cfSchema3, []string{cfSchema1}, true},
		{None, sInt, []string{sString, cfSchema1}, true},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", i, tc.level), func(t *testing.T) {
			rep, err := CheckLevel(tc.level, mustParse(t, tc.candidate), versions(t, tc.existing...))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Compatible != tc.want {
				t.Fatalf("compatible = %v, want %v: %+v", rep.Compatible, tc.want, rep)
			}
			if rep.Compatible != (len(rep.Findings()) == 0) {
				t.Fatal("Compatible disagrees with Findings")
			}
		})
	}
}

func TestLevelChecksWhatItShould(t *testing.T) {
	existing := versions(t, cfSchema1, cfSchema2, cfSchema3)
	cand := mustParse(t, cfSchema8)
	for _, tc := range []struct {
		level Level
		want  []string // direction:label, in order
	}{
		{None, nil},
		{Backward, []string{"backward:v3"}},
		{Forward, []string{"forward:v3"}},
		{Full, []string{"backward:v3", "forward:v3"}},
		{BackwardTransitive, []string{"backward:v3", "backward:v2", "backward:v1"}},
		{ForwardTransitive, []string{"forward:v3", "forward:v2", "forward:v1"}},
		{FullTransitive, []string{"backward:v3", "forward:v3", "backward:v2", "forward:v2", "backward:v1", "forward:v1"}},
	} {
		rep, err := CheckLevel(tc.level, cand, existing)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range rep.Checks {
			got = append(got, string(c.Direction)+":"+c.Against)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s checked %v, want %v", tc.level, got, tc.want)
		}
	}
}

func TestCandidateLocation(t *testing.T) {
	// The candidate drops a union branch and adds a field without default.
	old := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":["null","string","int"]}]}`)
	cand := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"z","type":"int"},{"name":"a","type":["null","string"]}]}`)
	rep, err := CheckLevel(Full, cand, []Version{{Label: "old", Schema: old}})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings()
	if len(f) != 2 {
		t.Fatalf("findings: %+v", f)
	}
	// Backward: the candidate reads: z lacks a default, a lacks int.
	if f[0].Type != ReaderFieldMissingDefault || f[0].CandidateLocation != "/fields/0" {
		t.Errorf("first: %+v", f[0])
	}
	if f[1].Type != MissingUnionBranch || f[1].Location != "/fields/1/type/2" || f[1].CandidateLocation != "/fields/1/type" {
		t.Errorf("second: %+v", f[1])
	}
	// Forward: the old schema reads candidate data; z is ignored, and the
	// candidate's union is a subset: compatible.
	if len(rep.Checks[1].Findings) != 0 {
		t.Errorf("forward: %+v", rep.Checks[1])
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"backward": Backward, "FULL_TRANSITIVE": FullTransitive, " forward-transitive ": ForwardTransitive, "none": None} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("SIDEWAYS"); err == nil {
		t.Error("SIDEWAYS accepted")
	}
	if _, err := CheckLevel("SIDEWAYS", mustParse(t, sInt), nil); err == nil {
		t.Error("CheckLevel accepted an unknown level")
	}
}

// The writer's branch index in an Avro-style location may name a different
// branch of the candidate's union: the candidate location is the union.
func TestCandidateLocationOfMissingBranch(t *testing.T) {
	old := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":["null","long"]}]}`)
	cand := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":["int","string","null"]}]}`)
	rep, err := CheckLevel(Backward, cand, []Version{{Label: "old", Schema: old}})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings()
	if len(f) != 1 || f[0].Location != "/fields/0/type/1" || f[0].CandidateLocation != "/fields/0/type" {
		t.Fatalf("%+v", f)
	}
	// Forward: the candidate is the writer, its branch 0 (int) is fine
	// for long, 1 (string) is not: its own branch pointer.
	rep, err = CheckLevel(Forward, cand, []Version{{Label: "old", Schema: old}})
	if err != nil {
		t.Fatal(err)
	}
	f = rep.Findings()
	if len(f) != 1 || f[0].CandidateLocation != "/fields/0/type/1" {
		t.Fatalf("%+v", f)
	}
}
