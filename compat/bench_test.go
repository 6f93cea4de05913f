package compat

import (
	"fmt"
	"strings"
	"testing"
)

// record200 builds a 200-field record mixing primitives, unions, enums,
// arrays, maps and nested records; evolved makes the reader side of a
// typical compatible evolution (promotions, a new field with a default).
func record200(evolved bool) string {
	var b strings.Builder
	b.WriteString(`{"type":"record","name":"Machine","namespace":"com.acme","fields":[`)
	for i := 0; i < 200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		switch i % 8 {
		case 0:
			t := "int"
			if evolved {
				t = "long"
			}
			fmt.Fprintf(&b, `{"name":"f%d","type":%q}`, i, t)
		case 1:
			fmt.Fprintf(&b, `{"name":"f%d","type":["null","string"],"default":null}`, i)
		case 2:
			syms := `"A","B"`
			if evolved {
				syms = `"A","B","C"`
			}
			fmt.Fprintf(&b, `{"name":"f%d","type":{"type":"enum","name":"E%d","symbols":[%s]}}`, i, i, syms)
		case 3:
			fmt.Fprintf(&b, `{"name":"f%d","type":{"type":"array","items":"float"}}`, i)
		case 4:
			fmt.Fprintf(&b, `{"name":"f%d","type":{"type":"map","values":["null","double"]}}`, i)
		case 5:
			fmt.Fprintf(&b, `{"name":"f%d","type":{"type":"record","name":"R%d","fields":[{"name":"x","type":"double"},{"name":"y","type":"double"}]}}`, i, i)
		case 6:
			fmt.Fprintf(&b, `{"name":"f%d","type":{"type":"long","logicalType":"timestamp-millis"}}`, i)
		case 7:
			fmt.Fprintf(&b, `{"name":"f%d","type":"bytes"}`, i)
		}
	}
	if evolved {
		b.WriteString(`,{"name":"added","type":["null","string"],"default":null}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// BenchmarkCheck200Fields checks a compatible evolution of a 200-field
// record (reader evolved, writer original), schemas parsed once.
func BenchmarkCheck200Fields(b *testing.B) {
	r := mustParse(b, record200(true))
	w := mustParse(b, record200(false))
	if inc := Check(r, w); inc != nil {
		b.Fatal(inc)
	}
	b.ReportAllocs()
	for b.Loop() {
		Check(r, w)
	}
}

// BenchmarkCheck200FieldsIncompatible is the reverse direction: the old
// schema reading the new one reports 25 enum and 25 int findings.
func BenchmarkCheck200FieldsIncompatible(b *testing.B) {
	r := mustParse(b, record200(false))
	w := mustParse(b, record200(true))
	if n := len(Check(r, w)); n != 50 {
		b.Fatalf("%d findings", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		Check(r, w)
	}
}

// BenchmarkParseCheck200Fields includes parsing both documents.
func BenchmarkParseCheck200Fields(b *testing.B) {
	rd, wd := []byte(record200(true)), []byte(record200(false))
	b.SetBytes(int64(len(rd) + len(wd)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := Parse(rd)
		if err != nil {
			b.Fatal(err)
		}
		w, err := Parse(wd)
		if err != nil {
			b.Fatal(err)
		}
		Check(r, w)
	}
}
