package compat

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc  string
		line, col  int
		ptr, inMsg string
	}{
		{"empty", ``, 1, 1, "", "unexpected end"},
		{"syntax", "{\n  \"type\": \"record\",\n  \"name\": \"R\"\n  \"fields\": []\n}", 4, 3, "", "invalid JSON"},
		{"trailing comma", "{\"type\":\"record\",\"name\":\"R\",\"fields\":[],}", 1, 41, "", "invalid JSON"},
		{"unterminated", "{\"type\": \"record\",\n \"name\": \"R", 2, 12, "", "unexpected end"},
		{"trailing data", `"int" "long"`, 1, 7, "", "after the schema"},
		{"unknown type", "{\"type\":\"record\",\"name\":\"R\",\"fields\":[\n  {\"name\":\"a\",\"type\":\"Missing\"}]}", 2, 22, "/fields/0/type", `unknown type "Missing"`},
		{"no type", `{"name":"x"}`, 1, 1, "", `no "type"`},
		{"number", `42`, 1, 1, "", "must be a type name"},
		{"record without fields", `{"type":"record","name":"R"}`, 1, 1, "", `no "fields"`},
		{"record without name", `{"type":"record","fields":[]}`, 1, 1, "", `no "name"`},
		{"bad name", `{"type":"record","name":"1R","fields":[]}`, 1, 25, "/name", "invalid name"},
		{"bad namespace", `{"type":"record","name":"R","namespace":"a..b","fields":[]}`, 1, 41, "/namespace", "invalid namespace"},
		{"primitive name", `{"type":"fixed","name":"int","size":1}`, 1, 24, "/name", "primitive"},
		{"duplicate field", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}`, 1, 73, "/fields/1/name", "two fields"},
		{"duplicate type", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"record","name":"R","fields":[]}}]}`, 1, 82, "/fields/0/type/name", "defined twice"},
		{"duplicate key", `{"type":"int","type":"long"}`, 1, 15, "", "duplicate key"},
		{"enum no symbols", `{"type":"enum","name":"E"}`, 1, 1, "", `no "symbols"`},
		{"enum dup symbol", `{"type":"enum","name":"E","symbols":["A","A"]}`, 1, 42, "/symbols/1", "twice"},
		{"enum bad symbol", `{"type":"enum","name":"E","symbols":["A-1"]}`, 1, 38, "/symbols/0", "invalid enum symbol"},
		{"enum bad default", `{"type":"enum","name":"E","symbols":["A"],"default":"B"}`, 1, 53, "/default", "one of its symbols"},
		{"fixed no size", `{"type":"fixed","name":"F"}`, 1, 1, "", `no "size"`},
		{"fixed negative", `{"type":"fixed","name":"F","size":-1}`, 1, 35, "/size", "non-negative"},
		{"fixed fraction", `{"type":"fixed","name":"F","size":1.5}`, 1, 35, "/size", "non-negative"},
		{"array no items", `{"type":"array"}`, 1, 1, "", `no "items"`},
		{"map no values", `{"type":"map"}`, 1, 1, "", `no "values"`},
		{"nested union", `["null",["int"]]`, 1, 9, "/1", "another union"},
		{"duplicate branch", `["int","string","int"]`, 1, 17, "/2", "both int"},
		{"duplicate named branch", `[{"type":"fixed","name":"F","size":1},"F"]`, 1, 39, "/1", "both F"},
		{"bare record", `"record"`, 1, 1, "", "must be written as an object"},
		{"bad order", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"up"}]}`, 1, 72, "/fields/0/order", "order must be"},
		{"bad default int", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}`, 1, 74, "/fields/0/default", "expected a number"},
		{"int default out of range", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":3000000000}]}`, 1, 74, "/fields/0/default", "int range"},
		{"union default not first branch", `{"type":"record","name":"R","fields":[{"name":"a","type":["null","string"],"default":"x"}]}`, 1, 86, "/fields/0/default", "first branch"},
		{"record default missing field", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"record","name":"S","fields":[{"name":"x","type":"int"}]},"default":{}}]}`, 1, 134, "/fields/0/default", `field "x" is missing`},
		{"fixed default length", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":2},"default":"abc"}]}`, 1, 105, "/fields/0/default", "size 2"},
		{"enum default symbol", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":["A"]},"default":"B"}]}`, 1, 111, "/fields/0/default", "not a symbol"},
		{"invalid utf8", "\"in\xfft\"", 1, 4, "", "UTF-8"},
		{"too deep", strings.Repeat("[", 300) + strings.Repeat("]", 300), 1, 257, "", "deeper"},
		{"multibyte column", "{\"type\":\"record\",\"doc\":\"é\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"X\"}]}", 1, 68, "/fields/0/type", "unknown type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *ParseError", err, err)
			}
			if pe.Line != tc.line || pe.Column != tc.col || pe.Pointer != tc.ptr || !strings.Contains(pe.Msg, tc.inMsg) {
				t.Fatalf("got line %d col %d ptr %q: %v; want %d:%d %q containing %q", pe.Line, pe.Column, pe.Pointer, err, tc.line, tc.col, tc.ptr, tc.inMsg)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d, column %d: ", tc.line, tc.col)) {
				t.Fatalf("error text %q", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	for _, doc := range []string{
		`{"type":"string"}`,
		`{"type":{"type":"array","items":"int"}}`,
		`{"type":"error","name":"Oops","fields":[]}`,
		`{"type":"record","name":"a.b.R","fields":[{"name":"s","type":{"type":"record","name":"S","fields":[]}},{"name":"t","type":"a.b.S"},{"name":"u","type":"S"}]}`,
		`{"type":"record","name":"R","namespace":"x","fields":[{"name":"s","type":{"type":"enum","name":"E","namespace":"","symbols":["A"]}},{"name":"t","type":"E"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":["null","R"],"default":null},{"name":"b","type":{"type":"map","values":"long"},"default":{"k":1}},{"name":"c","type":{"type":"array","items":"double"},"default":[1,2.5]},{"name":"d","type":"bytes","default":"\u00ff"},{"name":"e","type":"boolean","default":true},{"name":"f","type":"long","default":-9223372036854775808},{"name":"g","type":"float","default":1e3}]}`,
		`{"type":"record","name":"R","fields":[{"name":"s","type":{"type":"record","name":"S","fields":[{"name":"x","type":"int","default":1}]},"default":{}}]}`,
		`["null",{"type":"fixed","name":"F","size":1},{"type":"fixed","name":"G","size":1}]`,
		`{"type":"int","logicalType":"date"}`,
		"\n\t{ \"type\" : \"long\" }\n",
	} {
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

// Confluent accepts, and keeps, schemas whose defaults do not match their
// types (AvroCompatibilityTest.testBadDefaultNull); ParseWith can too.
func TestSkipDefaultValidation(t *testing.T) {
	doc := []byte(`{"type":"record","name":"myrecord","fields":[{"type":["null","string"],"name":"f1","default":"null"},{"type":"string","name":"f2","default":"foo"}]}`)
	if _, err := Parse(doc); err == nil {
		t.Fatal("Parse accepted an invalid union default")
	}
	s, err := ParseWith(doc, ParseOptions{SkipDefaultValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	// The field still counts as having a default.
	if got := Check(s, mustParse(t, `{"type":"record","name":"myrecord","fields":[]}`)); got != nil {
		t.Fatalf("got %v", got)
	}
}

func TestPosition(t *testing.T) {
	doc := "{\n  \"type\": \"record\", \"name\": \"R\",\n  \"fields\": [\n    {\"name\": \"a\", \"type\": \"int\"},\n    {\"name\": \"b\",\n     \"type\": [\"null\", \"string\"]}\n  ]\n}"
	s := mustParse(t, doc)
	for ptr, want := range map[string][2]int{
		"":                 {1, 1},
		"/name":            {2, 29},
		"/fields":          {3, 13},
		"/fields/0":        {4, 5},
		"/fields/0/type":   {4, 27},
		"/fields/1/type":   {6, 14},
		"/fields/1/type/1": {6, 23},
		"/fields/1/type/7": {6, 14}, // a branch the schema lacks: the union
		"/fields/9":        {3, 13},
	} {
		l, c, ok := s.Position(ptr)
		if !ok || l != want[0] || c != want[1] {
			t.Errorf("Position(%q) = %d:%d %v, want %d:%d", ptr, l, c, ok, want[0], want[1])
		}
	}
	if s.Name() != "R" || s.Type() != Record {
		t.Errorf("Name %q Type %s", s.Name(), s.Type())
	}
}

func TestImports(t *testing.T) {
	addr := mustParse(t, `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"},{"name":"geo","type":{"type":"fixed","name":"Geo","size":8}}]}`)
	doc := []byte(`{"type":"record","name":"Machine","namespace":"com.acme","fields":[{"name":"home","type":"Address"},{"name":"g","type":"com.acme.Geo"}]}`)
	if _, err := Parse(doc); err == nil || !strings.Contains(err.Error(), `unknown type "Address"`) {
		t.Fatalf("without the import: %v", err)
	}
	m, err := ParseWith(doc, ParseOptions{Imports: []*Schema{addr}})
	if err != nil {
		t.Fatal(err)
	}
	// Imports are transitive.
	outer, err := ParseWith([]byte(`{"type":"record","name":"Fleet","namespace":"com.acme","fields":[{"name":"m","type":"Machine"},{"name":"a","type":"Address"}]}`), ParseOptions{Imports: []*Schema{m}})
	if err != nil {
		t.Fatal(err)
	}
	// Checks look through imported types, with locations in the document.
	addr2 := mustParse(t, `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"},{"name":"zip","type":"string"},{"name":"geo","type":{"type":"fixed","name":"Geo","size":8}}]}`)
	m2, err := ParseWith(doc, ParseOptions{Imports: []*Schema{addr2}})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(Check(m2, m)); len(got) != 1 || got[0] != "READER_FIELD_MISSING_DEFAULT_VALUE@/fields/0/type/fields/1" {
		t.Fatalf("got %v", got)
	}
	if l, c, _ := m2.Position("/fields/0/type/fields/1"); l != 1 || c != 90 {
		t.Fatalf("position of a finding inside an imported type: %d:%d, want the reference site", l, c)
	}
	// Redefining an imported type is an error.
	_, err = ParseWith([]byte(`{"type":"record","name":"Address","namespace":"com.acme","fields":[]}`), ParseOptions{Imports: []*Schema{outer}})
	if err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("redefinition: %v", err)
	}
}
