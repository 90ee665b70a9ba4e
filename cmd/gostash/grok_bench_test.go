package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gostash/gostash/plugins/filters/grok/benchdata"
)

// BenchmarkGrokPipeline runs file → grok → null through the real binary
// for the four cases of issue #3, with gostash's grok, with a plugin built
// on github.com/elastic/go-grok (testdata/gogrok) and, when the BENTHOS
// environment variable names a Benthos binary, with Benthos's grok
// (file → grok → drop):
//
//	BENTHOS=/path/to/benthos go test ./cmd/gostash -run '^$' -bench GrokPipeline -benchtime 1x
//
// The lines are plugins/filters/grok's (benchdata), so these rows sit next
// to its BenchmarkFilter and BenchmarkGoGrokFilter. CPU is that of the
// whole process tree (wait4's rusage), start-up included. The figure to
// compare is events per CPU-second: the sizes differ because go-grok
// takes ~400 µs a line and Benthos does ~2,300 events per CPU-second, so
// their runs use fewer lines; each is still seconds of CPU, against tens
// of milliseconds of start-up. gostash's rows use 500,000 lines so that
// start-up (four processes, ~0.1 CPU-s) stays under 2% of the figure.
const (
	grokLines    = 500_000
	goGrokLines  = 10_000
	benthosLines = 10_000
	// verifyLines are run first through each pipeline with an output that
	// shows whether they matched: a row whose grok silently matched
	// nothing would measure the wrong thing.
	verifyLines = 200
)

type grokCase struct {
	name     string
	lines    func(n int) []string
	matching bool // every line matches (or none does)
	// miss, when set, says which lines do not match (matching is then
	// ignored)
	miss func(i int) bool
	// stdin adds rows that read the lines from stdin instead of a file
	stdin   bool
	gostash string
	gogrok  string
	benthos map[string]any // the grok processor's settings
}

// Benthos v4.24.0's default patterns are Logstash's legacy ones without
// SYSLOGBASE2 and SYSLOGLINE, and its pattern_definitions do not replace a
// default pattern (a COMBINEDAPACHELOG given there is ignored). So the ECS
// access log (Logstash's, as our grok's ECS set has it) goes under new
// names, with dotted capture names, which Benthos nests as ECS objects
// ([user][name] style names silently never match); SYSLOGLINE is
// Logstash's legacy definition on Benthos's own syslog parts, and the
// miss case is the same three patterns as gostash's.
var (
	benthosECSApache = map[string]string{
		"ECS_COMMONAPACHELOG":   `%{IPORHOST:source.address} (?:-|%{HTTPDUSER:apache.access.user.identity}) (?:-|%{HTTPDUSER:user.name}) \[%{HTTPDATE:timestamp}\] "(?:%{WORD:http.request.method} %{NOTSPACE:url.original}(?: HTTP/%{NUMBER:http.version})?|%{DATA})" (?:-|%{INT:http.response.status_code:int}) (?:-|%{INT:http.response.body.bytes:int})`,
		"ECS_COMBINEDAPACHELOG": `%{ECS_COMMONAPACHELOG} "(?:-|%{DATA:http.request.referrer})" "(?:-|%{DATA:user_agent.original})"`,
	}
	// Benthos's own legacy COMBINEDAPACHELOG takes no e-mail address as
	// the user (Logstash's did not either before 4.3): the access-log rows
	// give it Logstash's legacy text under new names.
	benthosLegacyApache = map[string]string{
		"LS_EMAILADDRESS":      `[a-zA-Z][a-zA-Z0-9_.+-=:]+@%{HOSTNAME}`,
		"LS_HTTPDUSER":         `%{LS_EMAILADDRESS}|%{USER}`,
		"LS_HTTPD_COMMONLOG":   `%{IPORHOST:clientip} %{LS_HTTPDUSER:ident} %{LS_HTTPDUSER:auth} \[%{HTTPDATE:timestamp}\] "(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" (?:-|%{NUMBER:response}) (?:-|%{NUMBER:bytes})`,
		"LS_HTTPD_COMBINEDLOG": `%{LS_HTTPD_COMMONLOG} %{QS:referrer} %{QS:agent}`,
	}
	benthosSyslog = map[string]string{
		"SYSLOGBASE2": `(?:%{SYSLOGTIMESTAMP:timestamp}|%{TIMESTAMP_ISO8601:timestamp8601}) (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource}+(?: %{SYSLOGPROG}:|)`,
		"SYSLOGLINE":  `%{SYSLOGBASE2} %{GREEDYDATA:message}`,
	}
)

func grokCases() []grokCase {
	miss := hclList(benchdata.MissPatterns)
	return []grokCase{
		{
			name: "combined-ecs", lines: benchdata.Apache, matching: true,
			gostash: `match = { message = "%{COMBINEDAPACHELOG}" }`,
			gogrok:  `match = { message = "%{COMBINEDAPACHELOG}" }`,
			benthos: map[string]any{"expressions": []string{"%{ECS_COMBINEDAPACHELOG}"}, "pattern_definitions": benthosECSApache},
		},
		{
			name: "combined-legacy", lines: benchdata.Apache, matching: true,
			gostash: "match = { message = \"%{COMBINEDAPACHELOG}\" }\n  ecs_compatibility = \"disabled\"",
			gogrok:  "match = { message = \"%{COMBINEDAPACHELOG}\" }\n  ecs_compatibility = \"disabled\"",
			benthos: map[string]any{"expressions": []string{"%{COMBINEDAPACHELOG}"}},
		},
		{
			name: "syslogline", lines: benchdata.Syslog, matching: true,
			gostash: `match = { message = "%{SYSLOGLINE}" }`,
			gogrok:  `match = { message = "%{SYSLOGLINE}" }`,
			benthos: map[string]any{"expressions": []string{"%{SYSLOGLINE}"}, "pattern_definitions": benthosSyslog},
		},
		{
			name: "accesslog-ecs", lines: benchdata.AccessLog, miss: benchdata.AccessLogMiss, stdin: true,
			gostash: `match = { message = "%{COMBINEDAPACHELOG}" }`,
			gogrok:  `match = { message = "%{COMBINEDAPACHELOG}" }`,
			benthos: map[string]any{"expressions": []string{"%{ECS_COMBINEDAPACHELOG}"}, "pattern_definitions": benthosECSApache},
		},
		{
			name: "accesslog-legacy", lines: benchdata.AccessLog, miss: benchdata.AccessLogMiss, stdin: true,
			gostash: "match = { message = \"%{COMBINEDAPACHELOG}\" }\n  ecs_compatibility = \"disabled\"",
			gogrok:  "match = { message = \"%{COMBINEDAPACHELOG}\" }\n  ecs_compatibility = \"disabled\"",
			benthos: map[string]any{"expressions": []string{"%{LS_HTTPD_COMBINEDLOG}"}, "pattern_definitions": benthosLegacyApache},
		},
		{
			name: "miss-3-patterns", lines: benchdata.Miss, matching: false,
			gostash: "match = { message = " + miss + " }",
			gogrok:  "match = { message = " + miss + " }",
			benthos: map[string]any{"expressions": benchdata.MissPatterns, "pattern_definitions": benthosSyslog},
		},
	}
}

func BenchmarkGrokPipeline(b *testing.B) {
	scale := 1
	if testing.Short() {
		scale = 10 // -short: a tenth of the lines, to check the rows quickly
	}
	binDir := b.TempDir()
	var gogrokBin string // built by the first gogrok row
	var cases []grokCase
	for _, c := range grokCases() {
		cases = append(cases, c)
		if c.stdin {
			c.name += "-stdin"
			cases = append(cases, c)
		}
	}
	for _, tool := range []string{"gostash", "gogrok", "benthos"} {
		for _, c := range cases {
			stdin := strings.HasSuffix(c.name, "-stdin")
			b.Run(tool+"/"+c.name, func(b *testing.B) {
				var n int
				var run func() runStats
				switch tool {
				case "gostash", "gogrok":
					filter, settings, plugin := "grok", c.gostash, ""
					n = grokLines / scale
					if tool == "gogrok" {
						if gogrokBin == "" {
							gogrokBin = buildGoGrok(b, binDir)
						}
						n, filter, settings = goGrokLines/scale, "gogrok", c.gogrok
						plugin = fmt.Sprintf("plugin \"gogrok\" { path = %q }\n", gogrokBin)
					}
					pipeline := func(data, output string) string {
						in := fileInput(b, data)
						if stdin {
							in = "input \"stdin\" \"in\" {}\n"
						}
						return plugin + in + fmt.Sprintf("filter %q \"g\" {\n  %s\n}\n", filter, settings) + output
					}
					verifyData := writeLines(b, c.lines(verifyLines))
					verifyGostash(b, c, pipeline(verifyData, `output "stdout" "out" { codec = "json_lines" }`+"\n"), stdinOf(stdin, verifyData))
					data := writeLines(b, c.lines(n))
					cfg := writeFileB(b, "grok.hcl", pipeline(data, `output "null" "out" {}`+"\n"))
					run = func() runStats { return measureStdin(b, stdinOf(stdin, data), "-f", cfg, "--log.level", "warn") }
				case "benthos":
					bin := os.Getenv("BENTHOS")
					if bin == "" {
						b.Skip("set BENTHOS to a Benthos v4.24.0 binary to add its rows")
					}
					n = benthosLines / scale
					verifyBenthos(b, bin, c, stdin)
					data := writeLines(b, c.lines(n))
					cfg := benthosConfig(b, data, stdin, c.benthos, nil, map[string]any{"drop": map[string]any{}})
					run = func() runStats { return measureBenthos(b, bin, cfg, stdinOf(stdin, data)) }
				}
				b.ResetTimer()
				var cpu, wall time.Duration
				for i := 0; i < b.N; i++ {
					st := run()
					cpu += st.cpu
					wall += st.wall
				}
				events := float64(n) * float64(b.N)
				b.ReportMetric(events/cpu.Seconds(), "events/CPU-s")
				b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
				b.ReportMetric(events/wall.Seconds(), "events/s")
			})
		}
	}
}

// fileInput reads data once, from the start, keeping no positions.
func fileInput(b *testing.B, data string) string {
	return fmt.Sprintf(`input "file" "in" {
  path                    = [%q]
  mode                    = "read"
  exit_after_read         = true
  sincedb_path            = "/dev/null"
  file_completed_action   = "log"
  file_completed_log_path = %q
}
`, data, filepath.Join(b.TempDir(), "completed.log"))
}

// stdinOf is data when the row reads stdin, else "" (no stdin).
func stdinOf(stdin bool, data string) string {
	if stdin {
		return data
	}
	return ""
}

// openStdin opens the file a command reads as its stdin ("": none).
func openStdin(b *testing.B, path string) *os.File {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// verifyGostash runs the pipeline on verifyLines lines and checks that
// each event matched (no _grokparsefailure tag) or that none did.
func verifyGostash(b *testing.B, c grokCase, pipeline, stdin string) {
	b.Helper()
	cfg := writeFileB(b, "verify.hcl", pipeline)
	cmd := exec.Command(gostashBin, "-f", cfg, "--log.level", "warn")
	cmd.Dir = b.TempDir()
	if f := openStdin(b, stdin); f != nil {
		cmd.Stdin = f
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("gostash: %v\n%s", err, errb.String())
	}
	matched, total := 0, 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct{ Tags []string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			b.Fatalf("not a JSON event: %q", sc.Text())
		}
		total++
		if !strings.Contains(strings.Join(e.Tags, ","), "_grokparsefailure") {
			matched++
		}
	}
	checkMatched(b, c, matched, total)
}

// verifyBenthos runs the case's grok on verifyLines lines, then a mapping
// that prints HIT or MISS: Benthos passes a line it could not parse on
// unchanged, flagged as errored.
func verifyBenthos(b *testing.B, bin string, c grokCase, stdin bool) {
	b.Helper()
	data := writeLines(b, c.lines(verifyLines))
	cfg := benthosConfig(b, data, stdin, c.benthos,
		map[string]any{"mapping": `root = if errored() { "MISS" } else { "HIT" }`},
		map[string]any{"stdout": map[string]any{}})
	cmd := exec.Command(bin, "-c", cfg)
	cmd.Dir = b.TempDir()
	if f := openStdin(b, stdinOf(stdin, data)); f != nil {
		cmd.Stdin = f
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("benthos: %v\n%s", err, errb.String())
	}
	lines := strings.Fields(string(out))
	checkMatched(b, c, strings.Count(string(out), "HIT"), len(lines))
}

func checkMatched(b *testing.B, c grokCase, matched, total int) {
	b.Helper()
	want := 0
	for i := range verifyLines {
		if c.miss != nil && !c.miss(i) || c.miss == nil && c.matching {
			want++
		}
	}
	if total != verifyLines || matched != want {
		b.Fatalf("%s: %d of %d lines matched, %d events out; want %d matched of %d", c.name, matched, verifyLines, total, want, verifyLines)
	}
}

// benthosConfig writes a Benthos config: file (lines) → grok (then extra,
// if any) → output. JSON is YAML, and needs no care with the patterns'
// backslashes and quotes.
func benthosConfig(b *testing.B, data string, stdin bool, grok, extra, output map[string]any) string {
	procs := []any{map[string]any{"grok": grok}}
	input := map[string]any{"file": map[string]any{"paths": []string{data}, "codec": "lines"}}
	if stdin {
		input = map[string]any{"stdin": map[string]any{"codec": "lines"}}
	}
	if extra != nil {
		procs = append(procs, extra)
	}
	cfg, err := json.Marshal(map[string]any{
		"http":     map[string]any{"enabled": false}, // else it listens on :4195
		"input":    input,
		"pipeline": map[string]any{"processors": procs},
		"output":   output,
		"logger":   map[string]any{"level": "WARN"},
		"metrics":  map[string]any{"none": map[string]any{}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return writeFileB(b, "benthos.yaml", string(cfg))
}

// measureBenthos runs Benthos to completion (it exits when its file input
// ends); its CPU is counted as gostash's is, by wait4.
func measureBenthos(b *testing.B, bin, cfg, stdin string) runStats {
	b.Helper()
	cmd := exec.Command(bin, "-c", cfg)
	cmd.Dir = b.TempDir()
	if f := openStdin(b, stdin); f != nil {
		cmd.Stdin = f
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("benthos: %v\n%s", err, errb.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return runStats{wall: time.Since(start), cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
}

// buildGoGrok builds testdata/gogrok, as a third-party author would.
func buildGoGrok(b *testing.B, dir string) string {
	b.Helper()
	bin := filepath.Join(dir, "gostash-gogrok")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/gogrok").CombinedOutput(); err != nil {
		b.Fatalf("build testdata/gogrok: %v\n%s", err, out)
	}
	return bin
}

func writeLines(b *testing.B, lines []string) string {
	return writeFileB(b, "lines.log", strings.Join(lines, "\n")+"\n")
}

func hclList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
