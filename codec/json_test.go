package codec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    any
		errText string // substring of the error; empty means success
	}{
		{name: "object", in: ` {"vin":"WDB123","speed":"12.5","n":12345678901234567890,"ok":true,"x":null,"a":[1,{"b":2}]} `,
			want: map[string]any{"vin": "WDB123", "speed": "12.5", "n": json.Number("12345678901234567890"), "ok": true, "x": nil,
				"a": []any{json.Number("1"), map[string]any{"b": json.Number("2")}}}},
		{name: "empty object", in: `{}`, want: map[string]any{}},
		{name: "empty", in: ``, errText: "empty input"},
		{name: "spaces", in: " \n\t", errText: "empty input"},
		{name: "array", in: `[1,2]`, errText: "top level is a JSON array"},
		{name: "string", in: `"x"`, errText: "top level is a JSON string"},
		{name: "number", in: `-1.5`, errText: "top level is a JSON number"},
		{name: "bool", in: `true`, errText: "top level is a JSON boolean"},
		{name: "null", in: `null`, errText: "top level is a JSON null"},
		{name: "syntax", in: `{"a":1,}`, errText: "at byte 7"},
		{name: "truncated", in: `{"a":`, errText: "at byte 5: unexpected end of input"},
		{name: "trailing", in: `{"a":1} {"b":2}`, errText: "at byte 8: trailing data"},
		{name: "garbage", in: "\x00\x01", errText: "at byte 0"},
		{name: "not json after array", in: `[1,`, errText: "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tt.in))
			if tt.errText != "" {
				if c, ok := ClassOf(err); !ok || c != ClassInvalidJSON {
					t.Fatalf("err = %v, want class %s", err, ClassInvalidJSON)
				}
				if !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %q, want it to contain %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
