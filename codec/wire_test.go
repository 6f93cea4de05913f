package codec

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseWire(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		id      int
		payload []byte
		class   Class
	}{
		{name: "empty", in: nil, class: ClassBadMagic},
		{name: "too short", in: []byte{0, 0, 0, 1}, class: ClassBadMagic},
		{name: "bad magic", in: []byte{1, 0, 0, 0, 1, 2}, class: ClassBadMagic},
		{name: "json", in: []byte(`{"a":1}`), class: ClassBadMagic},
		{name: "header only", in: []byte{0, 0, 0, 0, 7}, id: 7, payload: []byte{}},
		{name: "payload", in: []byte{0, 0, 0, 1, 0, 0xaa, 0xbb}, id: 256, payload: []byte{0xaa, 0xbb}},
		{name: "max id", in: []byte{0, 0xff, 0xff, 0xff, 0xff}, id: 1<<32 - 1, payload: []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, payload, err := ParseWire(tt.in)
			if tt.class != "" {
				if c, ok := ClassOf(err); !ok || c != tt.class {
					t.Fatalf("err = %v, want class %s", err, tt.class)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.id || !bytes.Equal(payload, tt.payload) {
				t.Fatalf("got (%d, %x), want (%d, %x)", id, payload, tt.id, tt.payload)
			}
		})
	}
}

func TestAppendWireRoundTrip(t *testing.T) {
	for _, id := range []int{0, 1, 42, 1 << 20, 1<<32 - 1} {
		b := AppendWire([]byte("prefix"), id, []byte("body"))
		gotID, payload, err := ParseWire(b[len("prefix"):])
		if err != nil || gotID != id || string(payload) != "body" {
			t.Fatalf("id %d: got (%d, %q, %v)", id, gotID, payload, err)
		}
	}
}

func TestErrorAndClassOf(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		err     error
		class   Class
		ok      bool
		message string
	}{
		{err: &Error{Class: ClassCorruptAvro, SchemaID: 7, Err: cause}, class: ClassCorruptAvro, ok: true, message: "corrupt-avro (schema id 7): boom"},
		{err: &Error{Class: ClassInvalidJSON, Err: cause}, class: ClassInvalidJSON, ok: true, message: "invalid-json: boom"},
		{err: errors.Join(errors.New("wrapped"), &Error{Class: ClassBadMagic, Err: cause}), class: ClassBadMagic, ok: true},
		{err: cause},
		{err: nil},
	}
	for _, tt := range tests {
		c, ok := ClassOf(tt.err)
		if c != tt.class || ok != tt.ok {
			t.Errorf("ClassOf(%v) = %q, %v; want %q, %v", tt.err, c, ok, tt.class, tt.ok)
		}
		if tt.message != "" && tt.err.Error() != tt.message {
			t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.message)
		}
		if tt.ok && !errors.Is(tt.err, cause) {
			t.Errorf("%v does not unwrap to its cause", tt.err)
		}
	}
}

// TestClassValues pins the dead-letter header values.
func TestClassValues(t *testing.T) {
	want := map[Class]string{
		ClassBadMagic:          "bad-magic",
		ClassUnknownSchema:     "unknown-schema-id",
		ClassCorruptAvro:       "corrupt-avro",
		ClassInvalidJSON:       "invalid-json",
		ClassUnsupportedSchema: "unsupported-schema",
	}
	for c, s := range want {
		if string(c) != s {
			t.Errorf("class %q changed, want %q", c, s)
		}
	}
}
