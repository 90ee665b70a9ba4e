package grok

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/dlclark/regexp2"
)

// The engine must capture what a backtracker (Oniguruma, in Logstash)
// captures. Two oracles: regexp2, a backtracker that knows lookarounds,
// on every pattern; and Go's regexp, whose leftmost-first submatches are
// a backtracker's, on the patterns it can compile. Group by group, on
// real-looking lines.
func TestEngineAgreesWithOraclesOnStockPatterns(t *testing.T) {
	lines := append(append(append(apacheLines(40), syslogLines(40)...), jsonLines(20)...),
		`<165>1 2026-11-22T08:00:00.000Z host1 app 42 ID7 - hello there`,
		`2026-11-22 08:15:01,123 ERROR [main] com.example.App - failed`,
		`[Sun Nov 22 08:15:01 2026] [error] [client 10.0.0.1] File does not exist: /var/www/favicon.ico`,
		`Nov 22 08:15:01 fw01 %ASA-6-302013: Built outbound TCP connection 1 for outside:203.0.113.9/443 (203.0.113.9/443) to inside:10.0.0.5/51122 (198.51.100.1/51122)`,
		`2001:db8::1 - - [22/Nov/2026:08:01:02 +0000] "GET / HTTP/1.1" 200 1 "-" "x"`,
		"", " ", "x")
	names := []string{"COMBINEDAPACHELOG", "COMMONAPACHELOG", "HTTPD_ERRORLOG", "SYSLOGLINE", "SYSLOGBASE", "SYSLOG5424LINE",
		"IPORHOST", "URI", "TIMESTAMP_ISO8601", "HTTPDATE", "QS", "LOGLEVEL", "JAVACLASS", "CISCO_TAGGED_SYSLOG", "EMAILADDRESS", "PATH"}
	compared, goCompared := 0, 0
	for _, set := range []string{"v8", "disabled"} {
		for _, name := range names {
			p, err := compile("%{"+name+"}", compileOptions{defs: standardPatterns(set), namedCapturesOnly: false})
			if err != nil {
				t.Fatalf("%s %s: %v", set, name, err)
			}
			slow, err := regexp2.Compile(toDotNet(p.Expr), regexp2.RE2|regexp2.Multiline|regexp2.Singleline)
			if err != nil {
				t.Fatalf("regexp2 on %s: %v", name, err)
			}
			oracle := *p
			oracle.fast, oracle.slow = nil, slow
			for _, l := range lines {
				got, m, okGot, _ := p.exec(l, 0)
				gotS := fmt.Sprint(got)
				if m != nil {
					m.Release()
				}
				want, _, okWant, _ := oracle.exec(l, 0)
				if okGot != okWant || okGot && gotS != fmt.Sprint(want) {
					t.Errorf("%s %%{%s} on %q:\n got     %v %s\n regexp2 %v %v", set, name, l, okGot, gotS, okWant, want)
				}
				compared++
			}
			goRe, err := regexp.Compile("(?ms)" + p.Expr)
			if err != nil {
				continue // a lookaround: Go cannot
			}
			goCompared++
			for _, l := range lines {
				want := goRe.FindStringSubmatchIndex(l)
				caps, m, ok, _ := p.exec(l, 0)
				got := ""
				if ok {
					got = fmt.Sprint(caps)
				}
				if m != nil {
					m.Release()
				}
				// Go numbers every group; keep the named ones (ours).
				var named []int
				if want != nil {
					for i, n := range goRe.SubexpNames() {
						if n != "" {
							named = append(named, want[2*i], want[2*i+1])
						}
					}
				}
				if wantS := fmt.Sprint(named); (want != nil) != ok || (ok && got != wantS) {
					t.Errorf("%s %%{%s} on %q:\n got  %v %s\n want %v %s", set, name, l, ok, got, want != nil, wantS)
				}
			}
		}
	}
	t.Logf("%d matches compared with regexp2; %d patterns also with Go's regexp", compared, goCompared)
	// Logstash's base patterns guard numbers with lookbehinds, which Go
	// cannot compile, so only the patterns without numbers are here.
	if goCompared < 5 {
		t.Errorf("only %d patterns compared with Go's regexp", goCompared)
	}
}
