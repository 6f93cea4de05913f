package profile

import "testing"

func TestMappingFastCoverage(t *testing.T) {
	m, err := LoadMapping("../../testdata/mappings/mobito.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range m.vars {
		if v.fast == nil {
			t.Logf("VM: %s %q", v.path, v.src)
		}
	}
	for _, o := range m.objects {
		for _, e := range []*mexpr{o.when, o.each} {
			if e != nil && e.fast == nil {
				t.Logf("VM: %s %q", e.path, e.src)
			}
		}
		for _, f := range o.fields {
			if f.e.fast == nil {
				t.Logf("VM: %s %q", f.e.path, f.e.src)
			}
		}
	}
}
