package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

// A page of leads is the hottest response: encoding it through
// encoding/json's reflection was about an eighth of a list request. These
// write the same bytes as the generated json.NewEncoder(…).Encode
// (TestLeadJSONIsEncodingJSON holds them equal), over the same generated
// types, and the pipeline validates them as it validates any response.

// leadListResponse is the generated 200 of ListLeads, written by
// appendLeadList.
type leadListResponse genserver.ListLeads200JSONResponse

func (r leadListResponse) VisitListLeadsResponse(w http.ResponseWriter) error {
	b, err := appendLeadList(bodyBuffer(w, 64+600*len(r.Body.Data)), r.Body)
	if err != nil {
		return err
	}
	h := r.Headers
	return writeJSON(w, http.StatusOK, b, int64(h.XRateLimitLimit), h.XRateLimitRemaining, h.XRateLimitReset, h.XRequestID)
}

// leadCreatedResponse is the generated 201 of CreateLead, written by
// appendLead.
type leadCreatedResponse genserver.CreateLead201JSONResponse

func (r leadCreatedResponse) VisitCreateLeadResponse(w http.ResponseWriter) error {
	b, err := appendLead(append(bodyBuffer(w, 640), `{"data":`...), r.Body.Data)
	if err != nil {
		return err
	}
	h := r.Headers
	return writeJSON(w, http.StatusCreated, append(b, "}\n"...), int64(h.XRateLimitLimit), h.XRateLimitRemaining, h.XRateLimitReset, h.XRequestID)
}

// bodyBuffer is an empty slice of at least size bytes to append a body to:
// the unused end of w's own buffer when it has one (the pipeline's
// exchange), which the body is then written to without a copy.
func bodyBuffer(w http.ResponseWriter, size int) []byte {
	for {
		switch v := w.(type) {
		case *exchange:
			return v.available(size)
		case interface{ Unwrap() http.ResponseWriter }: // Echo's response
			w = v.Unwrap()
		default:
			return make([]byte, 0, size)
		}
	}
}

// writeJSON sends body with the headers the generated responses set.
func writeJSON(w http.ResponseWriter, status int, body []byte, limit, remaining, reset int64, requestID *string) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-RateLimit-Limit", strconv.FormatInt(limit, 10))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(remaining, 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	if requestID != nil {
		h.Set("X-Request-Id", *requestID)
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// appendLeadList appends l as Encode writes it, newline included.
func appendLeadList(b []byte, l gen.LeadList) ([]byte, error) {
	b = append(b, `{"data":`...)
	if l.Data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, x := range l.Data {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendLead(b, x); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if l.HasMore != nil {
		b = append(b, `,"has_more":`...)
		b = strconv.AppendBool(b, *l.HasMore)
	}
	b = append(b, `,"length":`...)
	b = strconv.AppendInt(b, int64(l.Length), 10)
	return append(b, "}\n"...), nil
}

// appendLead appends l as encoding/json does: its fields in the generated
// struct's order, which is alphabetical.
func appendLead(b []byte, l gen.Lead) ([]byte, error) {
	var err error
	b = append(b, `{"company":`...)
	b = appendJSONString(b, l.Company)
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, l.CreatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"custom_fields":`...)
	b = appendStringMap(b, l.CustomFields)
	b = append(b, `,"email":`...)
	b = appendJSONString(b, l.Email)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, l.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, l.Name)
	b = append(b, `,"notes":`...)
	b = appendStrings(b, l.Notes)
	b = append(b, `,"phone":`...)
	b = appendJSONString(b, l.Phone)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, l.Source)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(l.Status))
	b = append(b, `,"tags":`...)
	b = appendStrings(b, l.Tags)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, string(l.Type))
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, l.UpdatedAt); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, x)
	}
	return append(b, ']')
}

// appendStringMap writes the keys sorted, as encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var buf [8]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONTime is time.Time's MarshalJSON, which refuses years outside
// 0 to 9999; encoding/json's error is kept for them.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		_, err := json.Marshal(t)
		return nil, err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping,
// the Encoder's default: <, > and & as \u003c…, control characters
// escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
