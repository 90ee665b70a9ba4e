package sdk

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"
)

// A FieldSet leaves an event as setting its references one after the
// other with FieldRef.Set does, errors included: on events with raw
// fields (a decoded batch) and on events made in place, for random sets
// of references that share maps, repeat a name, conflict (a prefix of
// another, a name on the way that holds a string or null) or are special.
func TestFieldSetMatchesSetOneByOne(t *testing.T) {
	names := []string{"a", "b", "[a][x]", "[a][y]", "[h][r][m]", "[h][r][n]", "[h][v]", "s", "[s][t]",
		"[n][k]", "[m][p][q]", "[@metadata][x]", "@timestamp", "[l][z]", "message", "[message][deep]"}
	base := func() *Event {
		e := NewEvent("line")
		e.SetTimestampNano(1e18)
		_ = e.Set("s", "text")
		_ = e.Set("n", nil)
		_ = e.Set("[m][p][old]", int64(1))
		_ = e.Set("[h][keep]", "k")
		_ = e.Set("l", []any{"x"})
		return e
	}
	batch := encodeBatch([]*Event{base(), base()})
	rng := rand.New(rand.NewSource(12))
	var decA, decB batchDecoder
	for round := range 3000 {
		refs := make([]FieldRef, 1+rng.Intn(7))
		for i := range refs {
			refs[i] = MustParseFieldRef(names[rng.Intn(len(names))])
		}
		if rng.Intn(3) == 0 {
			refs = append(refs, refs[rng.Intn(len(refs))]) // the same name twice: the last wins
		}
		vals := make([]string, len(refs))
		for i := range vals {
			vals[i] = fmt.Sprintf("v%d-%d", round, i)
		}
		value := func(i int, v *Values) any {
			if i%3 == 2 {
				return v.Int(int64(1000 + i))
			}
			return v.String(vals[i])
		}
		var a, b *Event
		if round%2 == 0 {
			a, b = base(), base()
		} else {
			ea, err := decA.Decode(batch)
			if err != nil {
				t.Fatal(err)
			}
			eb, err := decB.Decode(batch)
			if err != nil {
				t.Fatal(err)
			}
			a, b = ea[round%4/2], eb[round%4/2]
		}
		var wantErr error
		for i, r := range refs {
			var x any
			a.WithValues(func(v *Values) { x = value(i, v) })
			if err := r.Set(a, x); err != nil && wantErr == nil {
				wantErr = err
			}
		}
		gotErr := NewFieldSet(refs).Set(b, value)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("round %d, refs %v: error %v, one by one %v", round, refs, gotErr, wantErr)
		}
		if want, got := a.ToMap(true), b.ToMap(true); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d, refs %v:\n got %v\nwant %v", round, refs, got, want)
		}
		// What stays raw is encoded as it arrived: the two encode alike.
		if wa, wb := encodeBatch([]*Event{a}), encodeBatch([]*Event{b}); round%2 == 1 && !reflect.DeepEqual(decodeOne(t, wa), decodeOne(t, wb)) {
			t.Fatalf("round %d, refs %v: encoded differently", round, refs)
		}
	}
}

func decodeOne(t *testing.T, data []byte) map[string]any {
	t.Helper()
	evs, err := decodeBatch(data)
	if err != nil || len(evs) != 1 {
		t.Fatalf("decode: %v (%d events)", err, len(evs))
	}
	return evs[0].ToMap(true)
}

// The values a FieldSet stores in a decoded event are the batch's, and
// stay what they were when the batch is not released: a filter that keeps
// an event (not Transient) sees it unchanged after the next batch.
func TestFieldSetValuesOutliveTheBatch(t *testing.T) {
	refs := []FieldRef{MustParseFieldRef("[u][a]"), MustParseFieldRef("[u][b]"), MustParseFieldRef("c")}
	set := NewFieldSet(refs)
	batch := encodeBatch([]*Event{NewEvent("one"), NewEvent("two")})
	var dec batchDecoder
	var kept []*Event
	for round := range 40 {
		evs, err := dec.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range evs {
			if err := set.Set(e, func(i int, v *Values) any { return v.String(fmt.Sprintf("%d-%d-%d", round, j, i)) }); err != nil {
				t.Fatal(err)
			}
		}
		if round%10 == 0 {
			kept = append(kept, evs[1].Clone())
			continue // not released: the values may be held
		}
		dec.Release()
	}
	for k, e := range kept {
		round := k * 10
		for i, r := range refs {
			if v, _ := r.Get(e); v != fmt.Sprintf("%d-1-%d", round, i) {
				t.Errorf("kept event of round %d: %s = %v", round, r, v)
			}
		}
	}
}

// BenchmarkFieldSet sets eleven string fields (dissect's Apache
// mappings: legacy names at the top level, ECS names in seven objects)
// on events decoded from 125-event batches (set-ns/op is the CPU time
// of the sets alone), released batch after batch: through the map (Set), as raw entries (SetScalars) and from a list
// (SetScalarList).
func BenchmarkFieldSet(b *testing.B) {
	vals := []string{"127.0.0.1", "-", "frank", "10/Oct/2000:13:55:36 -0700", "GET", "/apache_pb.gif", "1.0", "200", "2326", "http://www.example.com/start.html", "Mozilla/4.08 [en] (Win98; I ;Nav)"}
	evs := make([]*Event, 125)
	for i := range evs {
		evs[i] = NewEvent("a line of about the length of an Apache access log line, which is what these fields came from")
	}
	batch := encodeBatch(evs)
	for _, names := range []struct {
		name  string
		names []string
	}{
		{"Legacy", []string{"clientip", "ident", "auth", "timestamp", "verb", "request", "httpversion", "response", "bytes", "referrer", "agent"}},
		{"ECS", []string{"[source][address]", "[apache][access][user][identity]", "[user][name]", "timestamp", "[http][request][method]", "[url][original]",
			"[http][version]", "[http][response][status_code]", "[http][response][body][bytes]", "[http][request][referrer]", "[user_agent][original]"}},
	} {
		refs := make([]FieldRef, len(names.names))
		for i, n := range names.names {
			refs[i] = MustParseFieldRef(n)
		}
		set := NewFieldSet(refs)
		for _, c := range []string{"Set", "SetScalars"} {
			b.Run(names.name+"/"+c, func(b *testing.B) {
				var dec batchDecoder
				var took time.Duration
				for i := 0; i < b.N; {
					dec.Release()
					evs, _ := dec.Decode(batch)
					for _, e := range evs {
						_ = e.Message()
					}
					start := cpuNow()
					for _, e := range evs[:min(len(evs), b.N-i)] {
						switch c {
						case "Set":
							_ = set.Set(e, func(i int, v *Values) any { return v.String(vals[i]) })
						default:
							_ = set.SetScalars(e, func(i int) Scalar { return StringScalar(vals[i]) })
						}
						i++
					}
					took += cpuNow() - start
				}
				b.ReportMetric(float64(took)/float64(b.N), "set-ns/op")
			})
		}
	}
}
