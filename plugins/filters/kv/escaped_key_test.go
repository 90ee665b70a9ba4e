package kv

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
)

// TestEscapedKeysLinear: a line of `\\ ` groups and no value separator
// is read in linear time. Each key (`\\`) ends at the next space, but the
// backtracking search for an escaped key end reads on while a backslash
// precedes each separator: from every key to the end of the line, a
// 120 KB line took seconds.
func TestEscapedKeysLinear(t *testing.T) {
	start := time.Now()
	e := run(t, M{"max_key_length": 1 << 21}, M{"message": strings.Repeat(`\\ `, 350000) + `k=v`})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a megabyte of escaped keys took %v", d)
	}
	// Logstash's key backtracks to the last separator a value separator
	// follows: the whole line up to "k" is one key.
	if v, _ := e.Fields()[strings.Repeat(`\\ `, 350000)+"k"].(string); v != "v" {
		t.Errorf("fields %d, the long key not found", len(e.Fields()))
	}
}

// TestEscapedKeyEndMemo: escapedKeyEnd with its memo, called as parse
// calls it (keys in increasing order, only where no value separator
// follows the key), finds what a fresh search finds.
func TestEscapedKeyEndMemo(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindFilter, "kv")
	for _, settings := range []map[string]any{{}, {"whitespace": "lenient"}, {"field_split": `\ `}} {
		flt, err := comp.NewFilter(context.Background(), sdktest.Config(t, comp, settings), sdktest.Env(t, "kv"))
		if err != nil {
			t.Fatal(err)
		}
		f := flt.(*filter)
		rng := rand.New(rand.NewPCG(1, 2))
		for range 3000 {
			b := make([]byte, 1+rng.IntN(14))
			for i := range b {
				b[i] = `a\ =`[rng.IntN(4)]
			}
			s := string(b)
			var m closers
			for ks := 0; ks < len(s); ks++ {
				for ke := ks + 1; ke <= len(s); ke++ {
					if _, ok := f.valueStart(s, ke); ok {
						continue
					}
					end, j, ok := f.escapedKeyEnd(s, ks, ke, &m)
					var fresh closers
					wantEnd, wantJ, wantOK := f.escapedKeyEnd(s, ks, ke, &fresh)
					if end != wantEnd || j != wantJ || ok != wantOK {
						t.Fatalf("%v %q key [%d:%d]: %d %d %v, a fresh search %d %d %v", settings, s, ks, ke, end, j, ok, wantEnd, wantJ, wantOK)
					}
					break // parse asks once per key start
				}
			}
		}
	}
}
