package compat

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"slices"
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

func deletedTargets(t *testing.T) []Target {
	t.Helper()
	old := mustParse(t, cfSchema1)
	good, err := CheckLevel(Backward, old, []Version{{Label: "v1", Schema: old}})
	if err != nil {
		t.Fatal(err)
	}
	return []Target{
		{Name: "good.avsc", File: "schemas/good.avsc", Candidate: old, Report: good},
		{Name: "main:schemas/gone.avsc", File: "schemas/gone.avsc", Deleted: true},
		{Name: "main:schemas/moved.avsc", File: "schemas/moved.avsc", Deleted: true, DeletionAllowed: true},
	}
}

func TestReportDeletedStatus(t *testing.T) {
	tg := deletedTargets(t)
	for i, want := range []struct {
		status string
		failed bool
	}{{"compatible", false}, {"deleted", true}, {"deleted", false}} {
		if tg[i].Status() != want.status || tg[i].Failed() != want.failed {
			t.Errorf("%s: status %q failed %v, want %q %v", tg[i].Name, tg[i].Status(), tg[i].Failed(), want.status, want.failed)
		}
	}
	// Failed keeps the meaning of the other statuses.
	for _, tg := range reportTargets(t) {
		if tg.Failed() != (tg.Status() == "incompatible") {
			t.Errorf("%s: Failed %v with status %s", tg.Name, tg.Failed(), tg.Status())
		}
	}
}

func TestReportTextDeleted(t *testing.T) {
	tg := deletedTargets(t)
	for _, tc := range []struct {
		targets []Target
		want    []string
		not     []string
	}{
		{tg, []string{
			"main:schemas/gone.avsc: DELETED: the schema is gone from the working tree (schemas/gone.avsc)",
			"main:schemas/moved.avsc: deleted: the schema is gone from the working tree (schemas/moved.avsc); allowed",
			"1 of 3 schema(s) deleted, 1 deleted (allowed)\n",
		}, []string{"all "}},
		{[]Target{tg[0], tg[2]}, []string{"all 1 remaining schema(s) compatible, 1 deleted (allowed)\n"}, []string{"DELETED"}},
		{append(reportTargets(t)[:1], tg[1]), []string{"1 of 2 schema(s) incompatible, 1 deleted\n"}, nil},
		{append(reportTargets(t)[4:5], tg...), []string{"1 of 4 schema(s) could not be checked, 0 incompatible, 1 deleted, 1 deleted (allowed)\n"}, nil},
	} {
		var b bytes.Buffer
		if err := WriteText(&b, tc.targets); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("text lacks %q:\n%s", w, b.String())
			}
		}
		for _, w := range tc.not {
			if strings.Contains(b.String(), w) {
				t.Errorf("text has %q:\n%s", w, b.String())
			}
		}
	}
}

func TestReportJSONDeleted(t *testing.T) {
	type doc struct {
		Compatible bool
		Targets    []struct {
			Name, File, Status string
			DeletionAllowed    bool
			Checks             []json.RawMessage
		}
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, deletedTargets(t)); err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Compatible || len(d.Targets) != 3 {
		t.Fatalf("%s", b.String())
	}
	gone, moved := d.Targets[1], d.Targets[2]
	if gone.Status != "deleted" || gone.DeletionAllowed || gone.File != "schemas/gone.avsc" || gone.Name != "main:schemas/gone.avsc" || gone.Checks != nil {
		t.Fatalf("%+v", gone)
	}
	if moved.Status != "deleted" || !moved.DeletionAllowed {
		t.Fatalf("%+v", moved)
	}
	if strings.Count(b.String(), "deletionAllowed") != 1 {
		t.Fatalf("deletionAllowed only on the allowed deletion:\n%s", b.String())
	}
	// Only allowed deletions: the run is compatible.
	b.Reset()
	if err := WriteJSON(&b, []Target{deletedTargets(t)[0], deletedTargets(t)[2]}); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &d); err != nil || !d.Compatible {
		t.Fatalf("%v\n%s", err, b.String())
	}
}

func TestReportJUnitDeleted(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, deletedTargets(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Class   string `xml:"classname,attr"`
				File    string `xml:"file,attr"`
				Failure *struct {
					Type    string `xml:"type,attr"`
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 0 || len(doc.Suites) != 3 {
		t.Fatalf("%+v\n%s", doc, b.String())
	}
	gone := doc.Suites[1]
	if gone.Name != "main:schemas/gone.avsc" || gone.Failures != 1 || len(gone.Cases) != 1 {
		t.Fatalf("%+v", gone)
	}
	if c := gone.Cases[0]; c.Failure == nil || c.Failure.Type != RuleDeleted || !strings.Contains(c.Failure.Message, "main:schemas/gone.avsc: DELETED") || c.File != "schemas/gone.avsc" || c.Class != "schemas/gone.avsc" {
		t.Fatalf("%+v", c)
	}
	if c := doc.Suites[2].Cases[0]; c.Failure != nil || c.Skipped == nil || !strings.Contains(c.Skipped.Message, "main:schemas/moved.avsc: deleted") {
		t.Fatalf("%+v", c)
	}
}

func TestReportSARIFDeleted(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, deletedTargets(t)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Results []struct {
				RuleID, Level string
				Message       struct{ Text string }
				Locations     []struct {
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
	run := doc.Runs[0]
	if !slices.ContainsFunc(run.Tool.Driver.Rules, func(r struct{ ID string }) bool { return r.ID == RuleDeleted }) {
		t.Fatalf("no %s rule: %+v", RuleDeleted, run.Tool.Driver.Rules)
	}
	if len(run.Results) != 2 {
		t.Fatalf("%s", b.String())
	}
	for i, want := range []struct{ level, uri, text string }{
		{"error", "schemas/gone.avsc", "main:schemas/gone.avsc: DELETED"},
		{"note", "schemas/moved.avsc", "main:schemas/moved.avsc: deleted"},
	} {
		r := run.Results[i]
		if r.RuleID != RuleDeleted || r.Level != want.level || !strings.Contains(r.Message.Text, want.text) || len(r.Locations) != 1 {
			t.Fatalf("%d: %+v", i, r)
		}
		if pl := r.Locations[0].PhysicalLocation; pl.ArtifactLocation.URI != want.uri || pl.Region != nil {
			t.Fatalf("%d: location %+v", i, pl)
		}
	}
}
