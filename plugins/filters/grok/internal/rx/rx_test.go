package rx

import (
	"errors"
	"fmt"
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"time"
)

// namedGroups wraps every capturing group of a Go expression in a name,
// so the engine reports the same groups Go's regexp does.
func goGroups(re *regexp.Regexp) []string {
	var names []string
	for i, n := range re.SubexpNames() {
		if i == 0 {
			continue
		}
		names = append(names, n)
	}
	return names
}

// The oracle: on RE2 syntax, Go's regexp reports leftmost-first
// submatches, the semantics a backtracker has. Every group is named so
// both sides report the same ones.
func TestAgreesWithGoRegexp(t *testing.T) {
	// once as typical lines run, once with the visited set on from the
	// first step, as long or pathological lines run
	for _, every := range []int{1 << 12, 1} {
		defer func(n int) { stepsPerCheck = n }(stepsPerCheck)
		stepsPerCheck = every
		agreesWithGoRegexp(t)
	}
}

func agreesWithGoRegexp(t *testing.T) {
	exprs := []string{
		`(?P<a>a+)(?P<b>b*)`,
		`(?P<a>a*?)(?P<b>a*)b`,
		`(?P<x>\w+)\s(?P<y>\w+)`,
		`(?P<x>[^"]*)"(?P<y>.*?)"`,
		`(?P<a>ab|a)(?P<b>bc|c)`,
		`(?P<a>(?:a|ab)(?:c|bcd))(?P<d>d*)`,
		`(?P<a>x*)*y`,
		`(?P<a>(?:a*)*)b`,
		`^(?P<a>\d{1,3})\.(?P<b>\d{1,3})$`,
		`\b(?P<w>[a-z]{2,4})\b`,
		`(?P<a>.{2,5}?)(?P<b>[0-9]+)`,
		`(?P<a>(?:ab){2,3})(?P<b>(?:ab)?)`,
		`(?P<a>é+|e)(?P<b>[^x]{1,2})`,
		`(?i)(?P<a>hello)\s+(?P<b>WORLD)`,
		`(?P<a>(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4})|(?P<b>\d+\.\d+)`,
		`(?P<o>(?P<i>a)|b)+`,
		`(?P<a>[^ ]+) (?P<b>[^ ]*)$`,
		`(?s)(?P<a>.+)x`,
		`(?P<a>.+)x`,
		`(?m)^(?P<a>\w+)$`,
	}
	inputs := []string{"", "a", "ab", "aab", "abcd", "abcbcd", "xxy", "y", "aaab", "12.345",
		"hello world", "say \"hi\" there", "abab", "ababab", "éé x", "HeLLo   world",
		"fe80::1:2", "2001:db8::1 and 10.20", "one two", "one two three", "a\nx", "b\nc\ndd",
		"bab", "ccc", "  ", "12345 x"}
	rng := rand.New(rand.NewSource(1))
	alphabet := "ab xy01.:\"é\n"
	for i := 0; i < 200; i++ {
		n := rng.Intn(12)
		var b strings.Builder
		for j := 0; j < n; j++ {
			r := []rune(alphabet)
			b.WriteRune(r[rng.Intn(len(r))])
		}
		inputs = append(inputs, b.String())
	}
	for _, expr := range exprs {
		// Go's ^ and $ are text anchors unless (?m), and its . stops at
		// \n unless (?s); ours are line anchors and . takes \n, as in
		// Logstash: compare in those modes.
		goRe := regexp.MustCompile("(?ms)" + expr)
		re, err := Compile(expr, goGroups(goRe))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		for _, in := range inputs {
			want := goRe.FindStringSubmatchIndex(in)
			m := re.Machine()
			ok, err := m.Match(in, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (want != nil) {
				t.Errorf("%s on %q: match %v, Go regexp says %v", expr, in, ok, want != nil)
				m.Release()
				continue
			}
			if ok && fmt.Sprint(m.Caps()) != fmt.Sprint(want[2:]) {
				t.Errorf("%s on %q: groups %v, Go regexp says %v", expr, in, m.Caps(), want[2:])
			}
			m.Release()
		}
	}
}

func TestOnigurumaSyntax(t *testing.T) {
	tests := []struct {
		expr, in string
		want     []int // nil: no match
	}{
		{`(?<![0-9])(?<n>\d+)`, "ab12", []int{2, 4}},
		{`(?<![0-9.])(?<n>\d+)(?![0-9])`, "1.5 x22", []int{0, 1}},
		{`(?<![0-9])(?<n>\d\d)(?![0-9])`, "123 45", []int{4, 6}},
		{`(?<=user=)(?<n>\w+)`, "id=1 user=bob", []int{10, 13}},
		{`(?!<[0-9])(?<n>[<\d]+)`, "<12", []int{1, 3}},
		{`(?<n>(?>\d\d){1,2})`, "x2024y", []int{1, 5}},
		{`(?<n>a\h+)`, "zaF0g", []int{1, 4}},
		{`(?<n>[[:alnum:]]+)`, "--ab1--", []int{2, 5}},
		{`(?<n>[[:alnum:]]+)`, "-Čierný中-", []int{1, 12}}, // Unicode, as in Oniguruma
		{`(?<n>[^[:alpha:]]+)`, "Č12ý", []int{2, 4}},
		{`(?#comment)(?<n>b)`, "ab", []int{1, 2}},
		{`(?m)(?<n>a.b)`, "a\nb", []int{0, 3}},
		{`(?<n>a.b)`, "a\nb", []int{0, 3}},  // always, as Logstash compiles with Ruby's MULTILINE
		{`^(?<n>ab)`, "x\nab", []int{2, 4}}, // ^ is a line start, as in Ruby
		{`^(?<n>ab)`, "xab ab", nil},
	}
	for _, tt := range tests {
		re, err := Compile(tt.expr, []string{"n"})
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		m := re.Machine()
		ok, _ := m.Match(tt.in, 0)
		var got []int
		if ok {
			got = append(got, m.Caps()...)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s on %q: got %v, want %v", tt.expr, tt.in, got, tt.want)
		}
		m.Release()
	}
}

func TestUnsupportedNeedsFallback(t *testing.T) {
	for _, expr := range []string{`(a)\1`, `\k<x>`, `a++`, `(?=ab+)x`, `\Gx`, `[a-z&&[^b]]`} {
		_, err := Compile(expr, nil)
		var u *UnsupportedError
		if !errors.As(err, &u) {
			t.Errorf("%s: got %v, want an UnsupportedError", expr, err)
		}
	}
	if _, err := Compile(`a(b`, nil); err == nil {
		t.Error("a(b compiled")
	} else if errors.As(err, new(*UnsupportedError)) {
		t.Errorf("a(b: a syntax error reported as unsupported: %v", err)
	}
}

// Nested quantifiers that take a plain backtracker exponential time stay
// linear thanks to the visited set.
func TestNoCatastrophicBacktracking(t *testing.T) {
	re, err := Compile(`^(?<n>(?:a+)+)$`, []string{"n"})
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Repeat("a", 2000) + "!"
	m := re.Machine()
	defer m.Release()
	start := time.Now()
	ok, err := m.Match(in, 0)
	if ok || err != nil {
		t.Fatalf("match %v, err %v", ok, err)
	}
	if d := time.Since(start); d > 5*time.Second { // exponential would be forever
		t.Errorf("took %v", d)
	}
}

// Past the visited set's size the engine backtracks without it; the
// timeout bounds that.
func TestTimeout(t *testing.T) {
	re, err := Compile(`^(?<n>(?:\w+\s?)+)$`, []string{"n"})
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Repeat("ab ", 1_000) + "!"
	defer func(n int) { maxVisitedBits = n }(maxVisitedBits)
	maxVisitedBits = 1000 // too small for this input: run without the visited set
	m := re.Machine()
	defer m.Release()
	start := time.Now()
	_, err = m.Match(in, 50*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout of 50ms took %v", d)
	}
}

func TestPrefilter(t *testing.T) {
	re, err := Compile(`(?<a>\S+) \[(?<b>[^\]]+)\] "(?<c>[^"]*)"`, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(re.needs) == 0 {
		t.Fatal("no required literal found")
	}
	m := re.Machine()
	defer m.Release()
	if ok, _ := m.Match(`{"json": "line", "with": ["no", "brackets"]}`, 0); ok {
		t.Error("matched a line without the literals")
	}
	if ok, _ := m.Match(`host [date] "GET /"`, 0); !ok {
		t.Error("no match")
	}
}

// The prefix DFA may only rule out positions where no match starts.
func TestPrefixDFA(t *testing.T) {
	re, err := Compile(`(?<y>\d\d(?:\d\d)?)-(?<m>\d\d)-(?<d>\d\d) (?<w>\w+)`, []string{"y", "m", "d", "w"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   string
		want bool
	}{
		{"2026-11-22 x", true},
		{"26-11-22 x", true},
		{"216742,", false}, // a number is not a date
		{"2026-11-22T08", false},
		{"20", true}, // the input ends before the DFA can tell
		{"2é", true}, // non-ASCII: the backtracker decides
	} {
		if got := re.dfa.mayMatch(tt.at); got != tt.want {
			t.Errorf("mayMatch(%q) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

// Oniguruma syntax Go's parser lacks runs as its Go equivalent does.
func TestOnigurumaSyntaxAsGoEquivalent(t *testing.T) {
	for _, tc := range []struct{ onig, goExpr string }{
		// a nested class, as in Logstash's UNIXPATH
		{`(?P<a>(?:/[[[:alnum:]]_.-]*)+)`, `(?P<a>(?:/[\p{L}\p{M}\p{Nd}_.-]*)+)`},
		{`(?P<a>[x[a-c][0-2]]+)`, `(?P<a>[xa-c0-2]+)`},
		// a nested repetition, as in Logstash's legacy SHOREWALL
		{`A=(?P<a>\w+).?*B=(?P<b>\w+)`, `A=(?P<a>\w+)(?:.?)*B=(?P<b>\w+)`},
		{`(?P<a>(?:ab){1,2}*)(?P<b>y)`, `(?P<a>(?:(?:ab){1,2})*)(?P<b>y)`},
		{`(?P<a>x+*?)y`, `(?P<a>(?:x+)*?)y`},
		{`(?P<a>a{,2})`, `(?P<a>a\{,2\})`}, // no repeat: literal braces
		// counted repeats nested beyond Go's limit of 1000, as in
		// Logstash's ECS EMAILLOCALPART
		{`(?P<a>(?:[ab]{1,40}x){2,30})y`, `(?P<a>(?:[ab]{1,40}x)(?:[ab]{1,40}x)(?:(?:[ab]{1,40}x)(?:(?:[ab]{1,40}x)` +
			strings.Repeat(`(?:(?:[ab]{1,40}x)`, 26) + strings.Repeat(`)?`, 28) + `)y`},
		{`(?P<a>(?:[ab]{1,40}x){30,})y`, `(?P<a>` + strings.Repeat(`(?:[ab]{1,40}x)`, 30) + `(?:[ab]{1,40}x)*)y`},
	} {
		goRe := regexp.MustCompile("(?ms)" + tc.goExpr)
		re, err := Compile(tc.onig, goGroups(goRe))
		if err != nil {
			t.Errorf("%s: %v", tc.onig, err)
			continue
		}
		for _, in := range []string{"/usr/lo_c-al/bin", "/a//b", "/é", "xa2b0c", "d", "A=1 x\ny B=2", "A=1B=2",
			"ababy", "abababy", "xxxy", "a{,2}", "aa", "axbxy", "axy", strings.Repeat("abx", 29) + "y",
			strings.Repeat("abx", 31) + "y", strings.Repeat("abx", 30) + "y"} {
			want := goRe.FindStringSubmatchIndex(in)
			m := re.Machine()
			ok, _ := m.Match(in, 0)
			if ok != (want != nil) || ok && fmt.Sprint(m.Caps()) != fmt.Sprint(want[2:]) {
				t.Errorf("%s on %q: %v %v, Go regexp on %s says %v", tc.onig, in, ok, m.Caps(), tc.goExpr, want)
			}
			m.Release()
		}
	}
}
