package mqttsink

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/telebridge/telebridge/schemas"
)

// FuzzEscapeTopicValue: an escaped value is one topic level without
// wildcards, NUL or a leading $, is valid UTF-8, and unescapes to the
// input when the input was valid UTF-8.
func FuzzEscapeTopicValue(f *testing.F) {
	for _, s := range []string{"", "plain", "a/b", "+#", "\x00", "50%", "$SYS", "ünï", "\xff\xfe", "%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		e := EscapeTopicValue(v)
		if strings.ContainsAny(e, "+#/\x00$") || !utf8.ValidString(e) {
			t.Fatalf("EscapeTopicValue(%q) = %q", v, e)
		}
		if utf8.ValidString(v) {
			back, err := url.PathUnescape(e)
			if err != nil || back != v {
				t.Fatalf("unescape(%q) = %q, %v; want %q", e, back, err, v)
			}
		}
	})
}

// FuzzTopicTemplate: parsing never panics, and an accepted template
// renders, for every object type, a topic without wildcards.
func FuzzTopicTemplate(f *testing.F) {
	for _, s := range []string{"globe-tracker/events/{type}", "fleet/{ownerId}/{assetId}/{type}", "a/{data.vin}", "{", "a/+/b", "$x", "x/{}"} {
		f.Add(s, "asset/1+#")
	}
	f.Fuzz(func(t *testing.T, raw, assetID string) {
		tt, err := parseTopic(raw)
		if err != nil {
			return
		}
		for _, o := range []schemas.Object{
			&schemas.Asset{ID: assetID, Name: "n", OwnerID: "o"},
			&schemas.Location{ID: 1, AssetID: assetID, OwnerID: "o"},
		} {
			topic, err := tt.topicFor(o)
			if err != nil {
				continue
			}
			if strings.ContainsAny(topic, "+#\x00") || topic == "" || strings.HasPrefix(topic, "$") {
				t.Fatalf("template %q rendered %q", raw, topic)
			}
		}
	})
}
