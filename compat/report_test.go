package compat

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

func reportTargets(t *testing.T) []Target {
	t.Helper()
	old := mustParse(t, cfSchema1)
	cand := mustParse(t, "{\"type\":\"record\",\"name\":\"myrecord\",\n \"fields\":[{\"type\":\"string\",\"name\":\"f1\"},\n  {\"type\":\"string\",\"name\":\"f2\"}]}")
	bad, err := CheckLevel(Full, cand, []Version{{Label: "v1", Schema: old}})
	if err != nil {
		t.Fatal(err)
	}
	good, err := CheckLevel(Backward, old, []Version{{Label: "v1", Schema: old}})
	if err != nil {
		t.Fatal(err)
	}
	none, err := CheckLevel(None, old, []Version{{Label: "v1", Schema: old}})
	if err != nil {
		t.Fatal(err)
	}
	_, perr := Parse([]byte("{\n  \"type\": \"recrd\"}"))
	return []Target{
		{Name: "bad.avsc", File: "schemas/bad.avsc", Candidate: cand, Report: bad},
		{Name: "good.avsc", File: "schemas/good.avsc", Candidate: old, Report: good},
		{Name: "none.avsc", File: "schemas/none.avsc", Candidate: old, Report: none},
		{Name: "new.avsc", File: "schemas/new.avsc", Candidate: old, New: true},
		{Name: "broken.avsc", File: "schemas/broken.avsc", Err: perr},
		{Name: "subject s", Err: errors.New("registry down")},
	}
}

func TestStatus(t *testing.T) {
	var got []string
	for _, tg := range reportTargets(t) {
		got = append(got, tg.Status())
	}
	if strings.Join(got, ",") != "incompatible,compatible,compatible,new,error,error" {
		t.Fatal(got)
	}
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, reportTargets(t)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{
		"bad.avsc: INCOMPATIBLE (FULL)",
		"schemas/bad.avsc:3:3: READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1:",
		"against v1 (forward): compatible",
		"good.avsc: compatible (BACKWARD with v1)",
		"none.avsc: compatible (NONE, nothing to compare)",
		"new.avsc: new schema",
		"schemas/broken.avsc:2:11: error: line 2, column 11: unknown type \"recrd\"",
		"subject s: error: registry down",
		"2 of 6 schema(s) could not be checked, 1 incompatible",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("text lacks %q:\n%s", w, out)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, reportTargets(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Compatible bool
		Targets    []struct {
			Name, Status string
			Error        *struct {
				Message      string
				File         string
				Line, Column int
			}
			Checks []struct {
				Incompatibilities []struct {
					Type         string
					Line, Column int
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Compatible || len(doc.Targets) != 6 {
		t.Fatalf("%+v", doc)
	}
	if inc := doc.Targets[0].Checks[0].Incompatibilities; len(inc) != 1 || inc[0].Line != 3 || inc[0].Column != 3 {
		t.Fatalf("%+v", inc)
	}
	if e := doc.Targets[4].Error; e == nil || e.File != "schemas/broken.avsc" || e.Line != 2 || e.Column != 11 {
		t.Fatalf("%+v", e)
	}
	// Everything compatible or new: compatible.
	b.Reset()
	if err := WriteJSON(&b, reportTargets(t)[1:4]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"compatible": true`) {
		t.Fatal(b.String())
	}
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, reportTargets(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// bad: 1 failure + 1 passing forward check; good: 1; none: 1; new: 1
	// skipped; two errors.
	if doc.Tests != 7 || doc.Failures != 1 || doc.Errors != 2 || len(doc.Suites) != 6 || doc.Suites[3].Cases[0].Skipped == nil {
		t.Fatalf("%+v\n%s", doc, b.String())
	}
}

func TestWriteSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, reportTargets(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           *struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	res := doc.Runs[0].Results
	if len(res) != 3 || res[0].RuleID != string(ReaderFieldMissingDefault) || res[1].RuleID != RuleParseError || res[2].RuleID != RuleParseError {
		t.Fatalf("%+v", res)
	}
	if l := res[1].Locations[0].PhysicalLocation; l.ArtifactLocation.URI != "schemas/broken.avsc" || l.Region == nil || l.Region.StartLine != 2 {
		t.Fatalf("%+v", l)
	}
	if len(res[2].Locations) != 0 {
		t.Fatal("an error without a file has no location")
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "yaml", nil); err == nil || !strings.Contains(err.Error(), "sarif") {
		t.Fatal(err)
	}
}
