package compat

import (
	"fmt"
	"strconv"
	"strings"
)

// Level is a Confluent Schema Registry compatibility level.
type Level string

// The Confluent levels. A candidate schema is checked against the latest
// existing version (or all of them, for the transitive levels):
//
//	BACKWARD     the candidate can read data written with the latest version
//	FORWARD      the latest version can read data written with the candidate
//	FULL         both
//	*_TRANSITIVE the same against every existing version
//	NONE         no check
const (
	None               Level = "NONE"
	Backward           Level = "BACKWARD"
	BackwardTransitive Level = "BACKWARD_TRANSITIVE"
	Forward            Level = "FORWARD"
	ForwardTransitive  Level = "FORWARD_TRANSITIVE"
	Full               Level = "FULL"
	FullTransitive     Level = "FULL_TRANSITIVE"
)

// Levels lists every level.
func Levels() []Level {
	return []Level{Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None}
}

// ParseLevel parses a level name, ignoring case and accepting '-' for '_'.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "_"))
	for _, k := range Levels() {
		if k == l {
			return l, nil
		}
	}
	names := make([]string, 0, 7)
	for _, k := range Levels() {
		names = append(names, string(k))
	}
	return "", fmt.Errorf("unknown compatibility level %q (allowed: %s)", s, strings.Join(names, ", "))
}

// Transitive reports whether the level checks against every version.
func (l Level) Transitive() bool { return strings.HasSuffix(string(l), "_TRANSITIVE") }

// backward reports whether the candidate must read the existing versions.
func (l Level) backward() bool {
	return strings.HasPrefix(string(l), "BACKWARD") || strings.HasPrefix(string(l), "FULL")
}

// forward reports whether the existing versions must read the candidate.
func (l Level) forward() bool {
	return strings.HasPrefix(string(l), "FORWARD") || strings.HasPrefix(string(l), "FULL")
}

// Direction says which schema reads which in one pairwise check.
type Direction string

const (
	// ReadsExisting: the candidate is the reader, the existing version the
	// writer (the backward half of a level).
	ReadsExisting Direction = "backward"
	// ReadByExisting: the existing version is the reader, the candidate the
	// writer (the forward half of a level).
	ReadByExisting Direction = "forward"
)

// Version is an existing schema version, with a label for reports (a file
// name, "version 3", "origin/main:schemas/a.avsc").
type Version struct {
	Label  string
	Schema *Schema
}

// PairCheck is the outcome of one pairwise check of a level.
type PairCheck struct {
	Direction Direction `json:"direction"`
	Against   string    `json:"against"` // label of the existing version
	// Findings are the incompatibilities, each with CandidateLocation set.
	Findings []Finding `json:"incompatibilities"`
}

// Finding is an incompatibility seen from the candidate schema.
type Finding struct {
	Incompatibility
	// CandidateLocation is the JSON pointer of the problem in the
	// candidate schema: WriterLocation when the candidate is the writer;
	// when it is the reader, Location, except that a MISSING_UNION_BRANCH
	// points at the reader union itself rather than at the writer's branch
	// index Location ends with.
	CandidateLocation string `json:"candidateLocation"`
}

// readerPointer is the pointer of inc in the reader schema. Location
// follows Apache Avro: for a writer union branch that a reader union cannot
// read it ends with the writer's branch index, which may name another
// branch, or none, of the reader union. A union is never directly inside a
// union, so a union's own pointer never ends with an index: that suffix is
// dropped.
func readerPointer(inc Incompatibility) string {
	if inc.Type != MissingUnionBranch {
		return inc.Location
	}
	i := strings.LastIndexByte(inc.Location, '/')
	if i < 0 {
		return inc.Location
	}
	if _, err := strconv.Atoi(inc.Location[i+1:]); err != nil {
		return inc.Location
	}
	return inc.Location[:i]
}

// Report is the outcome of checking a candidate at a level.
type Report struct {
	Level      Level       `json:"level"`
	Compatible bool        `json:"compatible"`
	Checks     []PairCheck `json:"checks"`
}

// Findings returns every finding of every pairwise check, in order.
func (r *Report) Findings() []Finding {
	var out []Finding
	for _, c := range r.Checks {
		out = append(out, c.Findings...)
	}
	return out
}

// CheckLevel checks candidate against existing (oldest first) at level, with
// Confluent Schema Registry's meaning: the non-transitive levels compare
// with the last element of existing only, the transitive ones with every
// element, newest first. No existing version, or level NONE, is
// compatible. An unknown level is an error.
func CheckLevel(level Level, candidate *Schema, existing []Version) (*Report, error) {
	if _, err := ParseLevel(string(level)); err != nil {
		return nil, err
	}
	rep := &Report{Level: level, Compatible: true}
	if level == None || len(existing) == 0 {
		return rep, nil
	}
	against := existing[len(existing)-1:]
	if level.Transitive() {
		against = existing
	}
	for i := len(against) - 1; i >= 0; i-- {
		v := against[i]
		if level.backward() {
			pc := PairCheck{Direction: ReadsExisting, Against: v.Label}
			for _, inc := range Check(candidate, v.Schema) {
				pc.Findings = append(pc.Findings, Finding{Incompatibility: inc, CandidateLocation: readerPointer(inc)})
			}
			rep.Checks = append(rep.Checks, pc)
		}
		if level.forward() {
			pc := PairCheck{Direction: ReadByExisting, Against: v.Label}
			for _, inc := range Check(v.Schema, candidate) {
				pc.Findings = append(pc.Findings, Finding{Incompatibility: inc, CandidateLocation: inc.WriterLocation})
			}
			rep.Checks = append(rep.Checks, pc)
		}
	}
	for _, c := range rep.Checks {
		if len(c.Findings) > 0 {
			rep.Compatible = false
		}
	}
	return rep, nil
}
