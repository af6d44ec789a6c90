package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
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

// leadSeeds are rows as the dialects' LeadRow gives them, and some the
// decoder must hand on or refuse.
var leadSeeds = []string{
	`["ld_1","acc_1","Ana Silva","ana@example.com","","Acme","lead","active","web",1733400000123000,1733400000123000]["vip","buyer"][]{"budget":"500k"}`,
	`["ld_1", "acc_1", "Ana", "a@b.co", "", "", "lead", "active", "", 1, 2]["a", "b"]["n"]{"k": "v"}`,
	`["ld_1","acc_1","Zoë \"Q\"","a@b.co","","","lead","active","",1,2]["\u003c"]["line\nbreak"]{"\"":"\\"}`,
	`["ld_1","acc_1","A","a@b.co","","","lead","active","",-5,0]nullnull{}`,
	`["ld_1","acc_1","A","a@b.co","","","lead","active","",1]["a"][]{}`,
	`["ld_1","acc_1","A","a@b.co","","","lead","active","",1,2,3][][]{}`,
	`["ld_1","acc_1","A","a@b.co","","","lead","active","",01,2][][]{}`,
	`["ld_1","acc_1","A","a@b.co","","","lead","active","",1.5,2][][]{}`,
	`["ld_1","acc_1","A","a@b.co","","","lead","active","",1,2][][]{} x`,
	`["ld_1","acc_1","A","a@b.co","","","lead","active","",1,2][][]`,
	"[\"ld_1\",\"acc_1\",\"\xff\",\"a@b.co\",\"\",\"\",\"lead\",\"active\",\"\",1,2][][]{}",
	`["ld_1",1,"A","a@b.co","","","lead","active","",1,2][][]{}`, ``, `[`, `[]`,
}

// The fast path reads what encoding/json reads, the same way: whatever it
// accepts, slowLead accepts and reads alike.
func FuzzDecodeLead(f *testing.F) {
	for _, s := range leadSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b string) {
		fast, ok := fastLead(b)
		slow, err := slowLead(b)
		if ok && (err != nil || !reflect.DeepEqual(fast, slow)) {
			t.Errorf("fastLead(%q) = %#v; slowLead: %#v, %v", b, fast, slow, err)
		}
		slowErr := err
		if _, err := decodeLead(b); (err == nil) != (ok || slowErr == nil) {
			t.Errorf("decodeLead(%q): error %v; fastLead %v, slowLead %v", b, err, ok, slowErr)
		}
	})
}

// What the dialects store is read by the fast path, with its times, and
// text with escapes by encoding/json, to the same lead.
func TestDecodeLead(t *testing.T) {
	for _, s := range leadSeeds[:2] {
		if _, ok := fastLead(s); !ok {
			t.Errorf("fastLead(%s) fell back", s)
		}
	}
	l, err := decodeLead(leadSeeds[0])
	want := time.UnixMicro(1733400000123000).UTC()
	if err != nil || l.Name != "Ana Silva" || !l.CreatedAt.Equal(want) || l.CreatedAt.Location() != time.UTC ||
		!reflect.DeepEqual(l.Tags, []string{"vip", "buyer"}) || len(l.Notes) != 0 || l.CustomFields["budget"] != "500k" {
		t.Errorf("decodeLead = %+v, %v", l, err)
	}
	l, err = decodeLead(leadSeeds[2])
	if err != nil || l.Name != `Zoë "Q"` || l.Tags[0] != "<" || l.Notes[0] != "line\nbreak" || l.CustomFields[`"`] != `\` {
		t.Errorf("decodeLead with escapes = %+v, %v", l, err)
	}
	for _, s := range leadSeeds[4:10] {
		if l, err := decodeLead(s); err == nil {
			t.Errorf("decodeLead(%s) = %+v, want an error", s, l)
		}
	}
}
