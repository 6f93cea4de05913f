package profile

import "testing"

var sinkAny any

func BenchmarkScratchInsightShape(b *testing.B) {
	g := map[string]any{"Percent": 44.4, "Unit": "percent", "datetime": int64(1741082389000)}
	for b.Loop() {
		v, _, _, _ := insightShape(g)
		sinkAny = v
	}
}

func BenchmarkScratchMapIter30(b *testing.B) {
	m := map[string]any{}
	for i := range 30 {
		m[string(rune('a'+i))+"xxxxxxxxx"] = map[string]any{}
	}
	n := 0
	for b.Loop() {
		for k, v := range m {
			if v != nil {
				n += len(k)
			}
		}
	}
	sinkAny = n
}
