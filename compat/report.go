package compat

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Target is one candidate schema of a run (a file, or a file checked
// against a registry subject), as the report writers render it.
type Target struct {
	// Name identifies the target for people: a file path or a subject.
	Name string
	// File is the candidate's file path, used for annotations (SARIF
	// artifact URI, JUnit class name); "" when there is no file.
	File string
	// Candidate is the parsed candidate, used to map findings to lines.
	Candidate *Schema
	// Report is the level check; nil when New, Deleted or Err is set.
	Report *Report
	// New means there was no earlier version to compare with (a file new
	// at the git ref, a subject without versions).
	New bool
	// Deleted means the schema exists at the git ref but not in the
	// working tree (deleted or renamed away): consumers that still use it
	// lose it. Name is then "REF:path" and File the path in the working
	// tree where the schema was. A deleted schema is a failure of the run
	// (like an incompatible one) unless DeletionAllowed is set, in which
	// case it is reported but does not fail the run.
	Deleted         bool
	DeletionAllowed bool
	// Err is a problem that prevented the check: a schema that does not
	// parse, a registry that cannot be reached. ErrFile names the file the
	// error is about when it is not File (for example an older version).
	Err     error
	ErrFile string
}

// Status is the outcome of a target: "compatible", "incompatible", "new",
// "deleted" (whether allowed or not; see Failed) or "error".
func (t *Target) Status() string {
	switch {
	case t.Err != nil:
		return "error"
	case t.New:
		return "new"
	case t.Deleted:
		return "deleted"
	case t.Report != nil && !t.Report.Compatible:
		return "incompatible"
	}
	return "compatible"
}

// Failed reports whether the target fails the run: it is incompatible, or
// deleted without DeletionAllowed. Targets that could not be checked
// (status "error") are not counted here; they are a failure of their own.
func (t *Target) Failed() bool {
	switch t.Status() {
	case "incompatible":
		return true
	case "deleted":
		return !t.DeletionAllowed
	}
	return false
}

// deletedText describes a deleted target for people.
func (t *Target) deletedText() string {
	if t.DeletionAllowed {
		return fmt.Sprintf("deleted: the schema is gone from the working tree (%s); allowed, not a failure", t.File)
	}
	return fmt.Sprintf("DELETED: the schema is gone from the working tree (%s), a breaking change for the consumers that still use it", t.File)
}

// position maps a candidate pointer to line and column, or 0, 0.
func (t *Target) position(ptr string) (int, int) {
	if t.Candidate == nil {
		return 0, 0
	}
	l, c, _ := t.Candidate.Position(ptr)
	return l, c
}

// errorPosition returns the file, line and column of Err when it is a
// *ParseError.
func (t *Target) errorPosition() (file string, line, col int) {
	file = t.ErrFile
	if file == "" {
		file = t.File
	}
	var pe *ParseError
	if errors.As(t.Err, &pe) {
		return file, pe.Line, pe.Column
	}
	return file, 0, 0
}

func directionText(d Direction) string {
	if d == ReadByExisting {
		return "forward: it must read data written with the checked schema"
	}
	return "backward: the checked schema must read data written with it"
}

// WriteText renders targets for people, one line per target and one per
// finding, with file:line:column where known. A deleted schema is one line
// naming it as REF:path. The last line sums the run up.
func WriteText(w io.Writer, targets []Target) error {
	var b strings.Builder
	bad, failed, gone, allowed := 0, 0, 0, 0
	for i := range targets {
		t := &targets[i]
		switch t.Status() {
		case "error":
			failed++
			file, l, c := t.errorPosition()
			if l > 0 && file != "" {
				fmt.Fprintf(&b, "%s:%d:%d: error: %v\n", file, l, c, t.Err)
			} else {
				fmt.Fprintf(&b, "%s: error: %v\n", t.Name, t.Err)
			}
			continue
		case "new":
			fmt.Fprintf(&b, "%s: new schema, no earlier version to compare with\n", t.Name)
			continue
		case "deleted":
			if t.DeletionAllowed {
				allowed++
			} else {
				gone++
			}
			fmt.Fprintf(&b, "%s: %s\n", t.Name, t.deletedText())
			continue
		}
		rep := t.Report
		if rep.Compatible {
			against := make([]string, 0, len(rep.Checks))
			seen := map[string]bool{}
			for _, c := range rep.Checks {
				if !seen[c.Against] {
					seen[c.Against] = true
					against = append(against, c.Against)
				}
			}
			if len(against) == 0 {
				fmt.Fprintf(&b, "%s: compatible (%s, nothing to compare)\n", t.Name, rep.Level)
			} else {
				fmt.Fprintf(&b, "%s: compatible (%s with %s)\n", t.Name, rep.Level, strings.Join(against, ", "))
			}
			continue
		}
		bad++
		fmt.Fprintf(&b, "%s: INCOMPATIBLE (%s)\n", t.Name, rep.Level)
		for _, c := range rep.Checks {
			if len(c.Findings) == 0 {
				fmt.Fprintf(&b, "  against %s (%s): compatible\n", c.Against, c.Direction)
				continue
			}
			fmt.Fprintf(&b, "  against %s (%s):\n", c.Against, directionText(c.Direction))
			for _, f := range c.Findings {
				loc := f.CandidateLocation
				if loc == "" {
					loc = "/"
				}
				if l, col := t.position(f.CandidateLocation); l > 0 && t.File != "" {
					fmt.Fprintf(&b, "    %s:%d:%d: %s at %s: %s\n", t.File, l, col, f.Type, loc, f.Message)
				} else {
					fmt.Fprintf(&b, "    %s at %s: %s\n", f.Type, loc, f.Message)
				}
			}
		}
	}
	allowedText := ""
	if allowed > 0 {
		allowedText = fmt.Sprintf(", %d deleted (allowed)", allowed)
	}
	goneText := allowedText
	if gone > 0 {
		goneText = fmt.Sprintf(", %d deleted%s", gone, allowedText)
	}
	switch {
	case failed > 0:
		fmt.Fprintf(&b, "%d of %d schema(s) could not be checked, %d incompatible%s\n", failed, len(targets), bad, goneText)
	case bad > 0:
		fmt.Fprintf(&b, "%d of %d schema(s) incompatible%s\n", bad, len(targets), goneText)
	case gone > 0:
		fmt.Fprintf(&b, "%d of %d schema(s) deleted%s\n", gone, len(targets), allowedText)
	case allowed > 0:
		fmt.Fprintf(&b, "all %d remaining schema(s) compatible%s\n", len(targets)-allowed, allowedText)
	default:
		fmt.Fprintf(&b, "all %d schema(s) compatible\n", len(targets))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonFinding struct {
	Finding
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

type jsonCheck struct {
	Direction Direction     `json:"direction"`
	Against   string        `json:"against"`
	Findings  []jsonFinding `json:"incompatibilities"`
}

type jsonTarget struct {
	Name   string `json:"name"`
	File   string `json:"file,omitempty"`
	Status string `json:"status"`
	// DeletionAllowed is set on a deleted target that does not fail the
	// run.
	DeletionAllowed bool        `json:"deletionAllowed,omitempty"`
	Level           Level       `json:"level,omitempty"`
	Error           *jsonError  `json:"error,omitempty"`
	Checks          []jsonCheck `json:"checks,omitempty"`
}

type jsonError struct {
	Message string `json:"message"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// WriteJSON renders targets as one JSON document:
//
//	{"compatible": false, "targets": [{"name", "file", "status",
//	  "deletionAllowed", "level",
//	  "error": {"message", "file", "line", "column"},
//	  "checks": [{"direction", "against", "incompatibilities": [{"type",
//	  "location", "writerLocation", "message", "candidateLocation",
//	  "line", "column"}]}]}]}
//
// status is one of Target.Status. compatible is true when every target is
// compatible, new, or deleted with DeletionAllowed (deletionAllowed true).
func WriteJSON(w io.Writer, targets []Target) error {
	out := struct {
		Compatible bool         `json:"compatible"`
		Targets    []jsonTarget `json:"targets"`
	}{Compatible: true, Targets: []jsonTarget{}}
	for i := range targets {
		t := &targets[i]
		jt := jsonTarget{Name: t.Name, File: t.File, Status: t.Status(), DeletionAllowed: t.Deleted && t.DeletionAllowed}
		if jt.Status == "error" || t.Failed() {
			out.Compatible = false
		}
		if t.Err != nil {
			file, l, c := t.errorPosition()
			jt.Error = &jsonError{Message: t.Err.Error(), File: file, Line: l, Column: c}
		}
		if t.Report != nil && t.Err == nil {
			jt.Level = t.Report.Level
			for _, c := range t.Report.Checks {
				jc := jsonCheck{Direction: c.Direction, Against: c.Against, Findings: []jsonFinding{}}
				for _, f := range c.Findings {
					l, col := t.position(f.CandidateLocation)
					jc.Findings = append(jc.Findings, jsonFinding{Finding: f, Line: l, Column: col})
				}
				jt.Checks = append(jt.Checks, jc)
			}
		}
		out.Targets = append(out.Targets, jt)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit renders targets as JUnit XML: one test suite per target, one
// passing test case per compatible pairwise check, one failing test case
// per incompatibility, an error test case for a target that could not be
// checked, a skipped one for a new schema, and for a deleted schema a
// failing test case (type SCHEMA_DELETED), or a skipped one when the
// deletion is allowed.
func WriteJUnit(w io.Writer, targets []Target) error {
	all := junitSuites{Name: "telebridge compat"}
	for i := range targets {
		t := &targets[i]
		class := t.File
		if class == "" {
			class = t.Name
		}
		s := junitSuite{Name: t.Name}
		switch t.Status() {
		case "error":
			file, l, c := t.errorPosition()
			msg := t.Err.Error()
			if l > 0 {
				msg = fmt.Sprintf("%s:%d:%d: %v", file, l, c, t.Err)
			}
			s.Cases = append(s.Cases, junitCase{Name: "schema can be checked", ClassName: class, File: file, Line: l,
				Error: &junitProblem{Message: msg, Type: "error", Text: msg}})
			s.Errors++
		case "new":
			s.Cases = append(s.Cases, junitCase{Name: "new schema", ClassName: class, File: t.File,
				Skipped: &junitProblem{Message: "new schema, no earlier version to compare with"}})
		case "deleted":
			c := junitCase{Name: "schema not deleted", ClassName: class, File: t.File}
			msg := t.Name + ": " + t.deletedText()
			if t.DeletionAllowed {
				c.Skipped = &junitProblem{Message: msg}
			} else {
				c.Failure = &junitProblem{Message: msg, Type: RuleDeleted, Text: msg}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		default:
			for _, c := range t.Report.Checks {
				base := fmt.Sprintf("%s %s against %s", t.Report.Level, c.Direction, c.Against)
				if len(c.Findings) == 0 {
					s.Cases = append(s.Cases, junitCase{Name: base, ClassName: class, File: t.File})
					continue
				}
				for _, f := range c.Findings {
					loc := f.CandidateLocation
					if loc == "" {
						loc = "/"
					}
					l, col := t.position(f.CandidateLocation)
					text := fmt.Sprintf("%s at %s: %s", f.Type, loc, f.Message)
					if l > 0 && t.File != "" {
						text = fmt.Sprintf("%s:%d:%d: %s", t.File, l, col, text)
					}
					s.Cases = append(s.Cases, junitCase{Name: fmt.Sprintf("%s: %s at %s", base, f.Type, loc), ClassName: class, File: t.File, Line: l,
						Failure: &junitProblem{Message: f.Message, Type: string(f.Type), Text: text}})
					s.Failures++
				}
			}
			if len(t.Report.Checks) == 0 {
				s.Cases = append(s.Cases, junitCase{Name: fmt.Sprintf("%s: nothing to compare", t.Report.Level), ClassName: class, File: t.File})
			}
		}
		s.Tests = len(s.Cases)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// SARIF 2.1.0, the subset code-scanning tools read.
type sarifLog struct {
	Version string     `json:"version"`
	Schema  string     `json:"$schema"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// RuleParseError is the SARIF rule id of a schema that could not be
// checked (parse, fetch or git error).
const RuleParseError = "SCHEMA_ERROR"

// RuleDeleted is the SARIF rule id (and JUnit failure type) of a schema
// that exists at the git ref but was deleted from the working tree.
const RuleDeleted = "SCHEMA_DELETED"

// ruleText describes a SARIF rule.
func ruleText(id string) string {
	switch id {
	case string(ReaderFieldMissingDefault):
		return "A reader field is missing from the writer and has no default value"
	case string(TypeMismatch):
		return "The writer's type cannot be read as the reader's type"
	case string(NameMismatch):
		return "The names of a record, enum or fixed do not match"
	case string(FixedSizeMismatch):
		return "The sizes of a fixed type differ"
	case string(MissingEnumSymbols):
		return "The reader enum lacks symbols of the writer enum and has no default"
	case string(MissingUnionBranch):
		return "The reader union has no branch for a type the writer may write"
	case RuleDeleted:
		return "The schema exists at the git ref but was deleted from the working tree"
	}
	return "The schema could not be checked (it does not parse, or could not be fetched)"
}

// WriteSARIF renders targets as a SARIF 2.1.0 log: one result per
// incompatibility and per target that could not be checked, located at the
// candidate file's line and column, so code-scanning tools (GitHub code
// scanning, GitLab) annotate the schema file. A deleted schema is a
// SCHEMA_DELETED result located at its path with no region, at level
// "error", or "note" when the deletion is allowed.
func WriteSARIF(w io.Writer, targets []Target) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "telebridge compat", InformationURI: "https://github.com/telebridge/telebridge"}}, Results: []sarifResult{}}
	for _, id := range []string{string(ReaderFieldMissingDefault), string(TypeMismatch), string(NameMismatch), string(FixedSizeMismatch), string(MissingEnumSymbols), string(MissingUnionBranch), RuleParseError, RuleDeleted} {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: id, ShortDescription: sarifMessage{Text: ruleText(id)}})
	}
	loc := func(file string, line, col int) []sarifLocation {
		if file == "" {
			return nil
		}
		pl := sarifPhysical{ArtifactLocation: sarifArtifact{URI: file}}
		if line > 0 {
			pl.Region = &sarifRegion{StartLine: line, StartColumn: col}
		}
		return []sarifLocation{{PhysicalLocation: pl}}
	}
	for i := range targets {
		t := &targets[i]
		if t.Err != nil {
			file, l, c := t.errorPosition()
			run.Results = append(run.Results, sarifResult{RuleID: RuleParseError, Level: "error",
				Message: sarifMessage{Text: fmt.Sprintf("%s: %v", t.Name, t.Err)}, Locations: loc(file, l, c)})
			continue
		}
		if t.Deleted {
			level := "error"
			if t.DeletionAllowed {
				level = "note"
			}
			run.Results = append(run.Results, sarifResult{RuleID: RuleDeleted, Level: level,
				Message: sarifMessage{Text: t.Name + ": " + t.deletedText()}, Locations: loc(t.File, 0, 0)})
			continue
		}
		if t.Report == nil {
			continue
		}
		for _, c := range t.Report.Checks {
			for _, f := range c.Findings {
				l, col := t.position(f.CandidateLocation)
				msg := fmt.Sprintf("%s (%s against %s, %s): %s", f.Type, t.Report.Level, c.Against, c.Direction, f.Message)
				run.Results = append(run.Results, sarifResult{RuleID: string(f.Type), Level: "error",
					Message: sarifMessage{Text: msg}, Locations: loc(t.File, l, col)})
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Version: "2.1.0", Schema: "https://json.schemastore.org/sarif-2.1.0.json", Runs: []sarifRun{run}})
}

// Formats lists the report formats, for flags and errors.
func Formats() []string { return []string{"text", "json", "junit", "sarif"} }

// Write renders targets in format (one of Formats).
func Write(w io.Writer, format string, targets []Target) error {
	switch format {
	case "text":
		return WriteText(w, targets)
	case "json":
		return WriteJSON(w, targets)
	case "junit":
		return WriteJUnit(w, targets)
	case "sarif":
		return WriteSARIF(w, targets)
	}
	return fmt.Errorf("unknown format %q (allowed: %s)", format, strings.Join(Formats(), ", "))
}
