package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

// seeds are the stored forms the decoders meet, and some they must hand on.
var jsonSeeds = []string{
	`[]`, `["buyer","vip"]`, `["a", "b"]`, ` [ "x" ] `, `null`, `{}`, `{"budget":"$500k"}`, `{"a": "1", "b": "2"}`,
	`{"a":"1","a":"2"}`, `["\u003cb\u003e"]`, `["line\nbreak"]`, `["é", "日本"]`, "[\"\xff\"]", `["a",]`, `["a"`, `["a"] x`,
	`{"a":1}`, `[1]`, `{"a":"1",}`, `{"a"}`, `"s"`, ``, `[`, `{"k":null}`, `[null]`, `["tab	in"]`,
}

// The decoders give what json.Unmarshal gives, value and error alike.
func FuzzDecodeJSONColumns(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var wantS []string
		errS := json.Unmarshal(b, &wantS)
		gotS, err := decodeStrings(string(b))
		if (err == nil) != (errS == nil) || err == nil && !reflect.DeepEqual(gotS, wantS) {
			t.Errorf("decodeStrings(%q) = %#v, %v; json.Unmarshal: %#v, %v", b, gotS, err, wantS, errS)
		}
		var wantM map[string]string
		errM := json.Unmarshal(b, &wantM)
		gotM, err := decodeStringMap(string(b))
		if (err == nil) != (errM == nil) || err == nil && !reflect.DeepEqual(gotM, wantM) {
			t.Errorf("decodeStringMap(%q) = %#v, %v; json.Unmarshal: %#v, %v", b, gotM, err, wantM, errM)
		}
	})
}

// The fast path is taken for what the stores write; otherwise the decoder
// would be correct and no faster.
func TestDecodeJSONColumnsFastPath(t *testing.T) {
	for _, s := range []string{`["buyer","vip"]`, `["a", "b"]`, `[]`} {
		if _, ok := fastStrings(s); !ok {
			t.Errorf("fastStrings(%s) fell back", s)
		}
	}
	for _, s := range []string{`{"budget":"$500k","preferred_location":"Downtown"}`, `{"a": "1"}`, `{}`} {
		if _, ok := fastStringMap(s); !ok {
			t.Errorf("fastStringMap(%s) fell back", s)
		}
	}
}

func BenchmarkDecodeJSONColumns(b *testing.B) {
	tags, custom := `["buyer","residential"]`, `{"preferred_location":"Downtown","budget":"$500k-$750k"}`
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s []string
			var m map[string]string
			_ = json.Unmarshal([]byte(tags), &s)
			_ = json.Unmarshal([]byte(custom), &m)
		}
	})
	b.Run("decoders", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = decodeStrings(tags)
			_, _ = decodeStringMap(custom)
		}
	})
}
