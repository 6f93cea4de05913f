package kafkaws

import (
	"testing"

	"github.com/telebridge/telebridge/codec"
)

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	v, err := codec.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("test message %s: %v", s, err)
	}
	return v
}
