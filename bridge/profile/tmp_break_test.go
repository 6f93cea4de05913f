package profile_test

import (
	"fmt"
	"testing"
)

func BenchmarkTmpBreakdown(b *testing.B) {
	_, mo := benchInputs(b, benchN)
	for i := 0; i < 2; i++ {
		b.Run(fmt.Sprint(i), func(b *testing.B) {
			benchNormalize(b, mappingProfile(b, fmt.Sprintf("/tmp/mob%d.yaml", i)), mo)
		})
	}
}
