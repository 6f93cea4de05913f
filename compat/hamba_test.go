package compat

import (
	"testing"

	"github.com/hamba/avro/v2"
)

// TestAgreesWithHamba cross-checks every table verdict against hamba/avro's
// SchemaCompatibility, an independent implementation. A fresh
// SchemaCompatibility is needed per pair: hamba caches verdicts by
// canonical fingerprint, which leaves out field defaults, so a shared one
// answers later pairs from earlier, different ones.
func TestAgreesWithHamba(t *testing.T) {
	for _, tc := range pairCases {
		r, err := avro.ParseWithCache(tc.reader, "", &avro.SchemaCache{})
		if err != nil {
			t.Fatalf("%s: hamba cannot parse the reader: %v", tc.name, err)
		}
		w, err := avro.ParseWithCache(tc.writer, "", &avro.SchemaCache{})
		if err != nil {
			t.Fatalf("%s: hamba cannot parse the writer: %v", tc.name, err)
		}
		herr := avro.NewSchemaCompatibility().Compatible(r, w)
		if (herr == nil) != (len(tc.want) == 0) {
			t.Errorf("%s: hamba says %v, the table says %v", tc.name, herr, tc.want)
		}
	}
}
