package elasticsearch

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// refItems reads a bulk answer with encoding/json, as the output did
// before scanBulkResponse: the reference the scanner must agree with.
func refItems(b []byte) ([]itemResult, error) {
	type res struct {
		Status int             `json:"status"`
		Error  json.RawMessage `json:"error"`
	}
	var r struct {
		Items []map[string]res `json:"items"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	var out []itemResult
	for _, it := range r.Items {
		if len(it) != 1 {
			return nil, fmt.Errorf("an item with %d keys", len(it))
		}
		for _, v := range it {
			x := itemResult{Status: v.Status}
			if v.Status/100 != 2 {
				x.Error = v.Error
			}
			out = append(out, x)
		}
	}
	return out, nil
}

func show(items []itemResult) string {
	var sb strings.Builder
	for _, it := range items {
		fmt.Fprintf(&sb, "%d %s; ", it.Status, it.Error)
	}
	return fmt.Sprintf("%d items: %s", len(items), sb.String())
}

func TestScanBulkResponseAgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	answers := []string{
		`{"took":3,"errors":false,"items":[]}`,
		`{"items":[{"index":{"_index":"a","_id":"1","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}}],"errors":false,"took":1}`,
		" \n{ \"errors\" : true , \"items\" : [ { \"create\" : { \"status\" : 409 , \"error\" : { \"type\" : \"version_conflict_engine_exception\" , \"reason\" : \"[1]: version conflict, \\\"quoted\\\" \\u00e9\" } } } ] }\n",
		`{"errors":true,"items":[{"update":{"_id":"x","status":400,"error":{"type":"document_parsing_exception","reason":"[1:10] failed to parse field [bytes] of type [long]","caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"a\""}}}},{"delete":{"status":404,"result":"not_found"}},{"index":{"status":429,"error":"old engines say a string"}}]}`,
		`{"items":[{"index":{"status":201,"extra":[1,2.5e3,-3,true,false,null,{"a":[{}]}]}}]}`,
	}
	// Random answers shaped like the engines': statuses, errors, fields.
	for range 200 {
		var sb strings.Builder
		sb.WriteString(`{"took":7,"errors":true,"items":[`)
		n := rng.Intn(20)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			st := []int{200, 201, 409, 400, 429, 503, 404}[rng.Intn(7)]
			fmt.Fprintf(&sb, `{%q:{"_index":"i-%d","_id":"%d","status":%d`, actions[rng.Intn(4)], i, rng.Int(), st)
			if st/100 != 2 {
				fmt.Fprintf(&sb, `,"error":{"type":"t%d","reason":%q}`, st, strings.Repeat("é\"\\\t", rng.Intn(3)))
			}
			sb.WriteString("}}")
		}
		sb.WriteString("]}")
		answers = append(answers, sb.String())
	}
	for _, a := range answers {
		want, err := refItems([]byte(a))
		if err != nil {
			t.Fatalf("reference: %v\n%s", err, a)
		}
		got, err := scanBulkResponse([]byte(a), nil)
		if err != nil {
			t.Fatalf("scan: %v\n%s", err, a)
		}
		if show(got) != show(want) {
			t.Fatalf("answer %s\nscanned %s\nwant    %s", a, show(got), show(want))
		}
	}
}

// What is not a well-formed answer is an error, never a shorter list the
// count check might miss.
func TestScanBulkResponseRefusesMalformed(t *testing.T) {
	for _, a := range []string{
		``, `[]`, `{"items":[{"index":{"status":201}}]`, `{"items":[{"index":{"status":201}}]}x`,
		`{"items":[{"index":{"status":"201"}}]}`, `{"items":[{"index":{"status":201},"create":{"status":201}}]}`,
		`{"items":[{"index":{"status":201,}}]}`, `{"items":[{"index":{"status":201}},]}`, `{"items" [ ]}`,
		`{"items":[{"index":{"status":201,"error":"unterminated}}]}`, `{"items":[{"index":{"status":2.5}}]}`,
		`{"items":[{"index":{"status":201,"found":yes}}]}`, `{"took":nul,"items":[]}`,
		// A raw control byte read eight bytes at a time, at each place
		// in a word; a string that never ends after whole words.
		"{\"items\":[{\"index\":{\"status\":201,\"error\":\"abcdefgh\x01\"}}]}",
		"{\"items\":[{\"index\":{\"status\":201,\"error\":\"abcdefghijklmn\x1f\"}}]}",
		"{\"items\":[{\"index\":{\"status\":201,\"error\":\"é\n\"}}]}",
		`{"items":[{"index":{"status":201,"error":"abcdefghijklmnopqrstuvwx`,
		`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	} {
		if items, err := scanBulkResponse([]byte(a), nil); err == nil {
			t.Errorf("%s: no error (%d items)", a, len(items))
		}
	}
}

func BenchmarkScanBulkResponse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"errors":false,"took":3,"items":[`)
	for i := range 125 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"index":{"_index":"test-system-messages-2026.01","_id":"%d","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}}`, i, i)
	}
	sb.WriteString("]}")
	body := []byte(sb.String())
	b.Run("scan", func(b *testing.B) {
		var out []itemResult
		for range b.N {
			out, _ = scanBulkResponse(body, out[:0])
		}
	})
	// What the output did before: encoding/json into reused structs.
	type res struct {
		Status int             `json:"status"`
		Error  json.RawMessage `json:"error"`
	}
	var parsed struct {
		Items []struct {
			Index, Create, Update, Delete res
		} `json:"items"`
	}
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			items := parsed.Items[:cap(parsed.Items)]
			clear(items)
			parsed.Items = items[:0]
			_ = json.Unmarshal(body, &parsed)
		}
	})
}
