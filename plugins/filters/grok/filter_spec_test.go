package grok

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// absent marks a field a filter spec case wants missing from the event.
type absentField struct{}

var absent = absentField{}

// filterSpecCase is one example of logstash-filter-grok's own spec suite
// (spec/filters/grok_spec.rb at 65914a5): its settings, the event it
// starts from and the fields it checks (absent: not in the event). tags
// nil means the event must have none.
type filterSpecCase struct {
	name     string
	settings map[string]any
	in       map[string]any
	want     map[string]any
	tags     []string
}

func TestLogstashFilterSpec(t *testing.T) {
	msg := func(m any) map[string]any { return map[string]any{"message": m} }
	m := func(kv ...any) map[string]any {
		out := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	l := func(v ...any) []any { return v }
	syslog := "Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]"
	nilFloat := "test (N/A|%{BASE10NUM:duration:float}ms)"
	cases := []filterSpecCase{
		{name: "simple syslog line, ECS", settings: m("match", m("message", "%{SYSLOGLINE}"), "overwrite", l("message")), in: msg(syslog),
			want: m("[host][hostname]", "evita", "timestamp", "Mar 16 00:01:25", "message", "connect from camomile.cloud9.net[168.100.1.3]", "[process][name]", "postfix/smtpd", "[process][pid]", int64(1713))},
		{name: "simple syslog line, legacy", settings: m("match", m("message", "%{SYSLOGLINE}"), "overwrite", l("message"), "ecs_compatibility", "disabled"), in: msg(syslog),
			want: m("logsource", "evita", "timestamp", "Mar 16 00:01:25", "message", "connect from camomile.cloud9.net[168.100.1.3]", "program", "postfix/smtpd", "pid", "1713")},
		{name: "syslog line with target", settings: m("match", m("message", "%{SYSLOGLINE}"), "target", "grok"), in: msg(syslog),
			want: m("message", syslog, "[grok][timestamp]", "Mar 16 00:01:25", "[grok][message]", "connect from camomile.cloud9.net[168.100.1.3]", "[grok][process][pid]", int64(1713))},
		{name: "syslog line with [deep] target", settings: m("match", m("message", "%{SYSLOGLINE}"), "target", "[@metadata][grok]"), in: msg(syslog),
			want: m("message", syslog, "grok", absent, "[@metadata][grok][host][hostname]", "evita", "[@metadata][grok][message]", "connect from camomile.cloud9.net[168.100.1.3]")},
		{name: "ietf 5424 syslog line", settings: m("match", m("message", "%{SYSLOG5424LINE}"), "ecs_compatibility", "disabled"),
			in:   msg(`<191>1 2009-06-30T18:30:00+02:00 paxton.local grokdebug 4123 - [id1 foo="bar"][id2 baz="something"] Hello, syslog.`),
			want: m("syslog5424_pri", "191", "syslog5424_ver", "1", "syslog5424_ts", "2009-06-30T18:30:00+02:00", "syslog5424_host", "paxton.local", "syslog5424_app", "grokdebug", "syslog5424_proc", "4123", "syslog5424_msgid", absent, "syslog5424_sd", `[id1 foo="bar"][id2 baz="something"]`, "syslog5424_msg", "Hello, syslog.")},
		{name: "ietf 5424 syslog line: appname nil", settings: m("match", m("message", "%{SYSLOG5424LINE}")),
			in:   msg("<30>1 2014-04-04T16:44:07+02:00 osctrl01 - 8048 - -  Appname is nil"),
			want: m("[log][syslog][priority]", int64(30), "[host][hostname]", "osctrl01", "[process][name]", absent, "[process][pid]", int64(8048), "[system][syslog][structured_data]", absent, "[message][1]", "Appname is nil")},
		{name: "multiple messages (array of strings)", settings: m("match", m("message", "(?:hello|world) %{NUMBER:num}")), in: msg(l("hello 12345", "world 23456")),
			want: m("num", l("12345", "23456"))},
		{name: "coercing matched values", settings: m("match", m("message", "%{NUMBER:foo:int} %{NUMBER:bar:float}")), in: msg("400 454.33"),
			want: m("foo", int64(400), "bar", 454.33)},
		{name: "in-line pattern definitions", settings: m("match", m("message", `%{FIZZLE=\d+}`), "named_captures_only", false), in: msg("hello 1234"),
			want: m("FIZZLE", "1234")},
		{name: "processing selected fields", settings: m("match", m("message", "%{WORD:word}", "examplefield", "%{NUMBER:num}"), "break_on_match", false),
			in: m("message", "hello world", "examplefield", "12345"), want: m("word", "hello", "num", "12345")},
		{name: "adding fields on match", settings: m("match", m("message", "matchme %{NUMBER:fancy}"), "add_field", m("new_field", "%{fancy}")), in: msg("matchme 1234"),
			want: m("new_field", "1234")},
		{name: "adding fields on match: no match", settings: m("match", m("message", "matchme %{NUMBER:fancy}"), "add_field", m("new_field", "%{fancy}")), in: msg("this will not be matched"),
			want: m("new_field", absent), tags: []string{"_grokparsefailure"}},
		{name: "empty fields: drop by default", settings: m("match", m("message", "1=%{WORD:foo1} *(2=%{WORD:foo2})?")), in: msg("1=test"),
			want: m("foo1", "test", "foo2", absent)},
		{name: "empty fields: keep if keep_empty_captures is true", settings: m("match", m("message", "1=%{WORD:foo1} *(2=%{WORD:foo2})?"), "keep_empty_captures", true), in: msg("1=test"),
			want: m("foo1", "test", "foo2", nil)},
		{name: "named_captures_only false", settings: m("match", m("message", "Hello %{WORD}. %{WORD:foo}"), "named_captures_only", false), in: msg("Hello World, yo!"),
			want: m("WORD", "World", "foo", "yo")},
		{name: "oniguruma named captures: plain regexp", settings: m("match", m("message", `(?<foo>\w+)`)), in: msg("hello world"), want: m("foo", "hello")},
		{name: "oniguruma named captures: grok patterns", settings: m("match", m("message", "(?<timestamp>%{DATE_EU} %{TIME})")), in: msg("fancy 12-12-12 12:12:12"),
			want: m("timestamp", "12-12-12 12:12:12")},
		{name: "grok on integer types", settings: m("match", m("status", "^403$"), "add_tag", "four_oh_three"), in: m("status", int64(403)), tags: []string{"four_oh_three"}},
		{name: "grok on float types", settings: m("match", m("version", "^1.0$"), "add_tag", "one_point_oh"), in: m("version", 1.0), tags: []string{"one_point_oh"}},
		{name: "tagging on failure: match", settings: m("match", m("message", "matchme %{NUMBER:fancy}"), "tag_on_failure", "not_a_match"), in: msg("matchme 1234")},
		{name: "tagging on failure: no match", settings: m("match", m("message", "matchme %{NUMBER:fancy}"), "tag_on_failure", "not_a_match"), in: msg("this will not be matched"),
			tags: []string{"not_a_match"}},
		{name: "captures named fields even if the whole text matches", settings: m("match", m("message", "%{DATE_EU:stimestamp}")), in: msg("11/01/01"), want: m("stimestamp", "11/01/01")},
		{name: "allow dashes in capture names", settings: m("match", m("message", "%{WORD:foo-bar}")), in: msg("hello world"), want: m("foo-bar", "hello")},
		{name: "duplicate-named fields: a word", settings: m("match", m("message", "%{INT:foo}|%{WORD:foo}")), in: msg("hello world"), want: m("foo", "hello")},
		{name: "duplicate-named fields: a number", settings: m("match", m("message", "%{INT:foo}|%{WORD:foo}")), in: msg("123 world"), want: m("foo", "123")},
		{name: "break_on_match default should be true", settings: m("match", m("message", "%{INT:foo}", "somefield", "%{INT:bar}")),
			in: m("message", "hello world 123", "somefield", "testme abc 999"), want: m("foo", "123", "bar", absent)},
		{name: "break_on_match false tries all fields", settings: m("match", m("message", "%{INT:foo}", "somefield", "%{INT:bar}"), "break_on_match", false),
			in: m("message", "hello world 123", "somefield", "testme abc 999"), want: m("foo", "123", "bar", "999")},
		{name: "array input, one pattern: fully matching", settings: m("match", m("message", "%{INT:foo}"), "break_on_match", false),
			in: msg(l("hello world 123", "line 23")), want: m("foo", l("123", "23"))},
		{name: "array input, one pattern: partially matching", settings: m("match", m("message", "%{INT:foo}"), "break_on_match", false),
			in: msg(l("hello world 123", "abc")), want: m("foo", "123")},
		{name: "array input, break_on_match true: matching", settings: m("match", m("message", l("%{INT:foo}", "%{WORD:bar}"))),
			in: msg(l("hello world 123", "line 23")), want: m("foo", l("123", "23"), "bar", absent)},
		{name: "array input, break_on_match true: partially matching", settings: m("match", m("message", l("%{INT:foo}", "%{WORD:bar}"))),
			in: msg(l("hello world", "line 23")), want: m("bar", "hello", "foo", "23")},
		{name: "array input, break_on_match false: fully matching", settings: m("match", m("message", l("%{INT:foo}", "%{WORD:bar}")), "break_on_match", false),
			in: msg(l("hello world 123", "line 23")), want: m("foo", l("123", "23"), "bar", l("hello", "line"))},
		{name: "array input, break_on_match false: partially matching", settings: m("match", m("message", l("%{INT:foo}", "%{WORD:bar}")), "break_on_match", false),
			in: msg(l("hello world", "line 23")), want: m("bar", l("hello", "line"), "foo", "23")},
		{name: "grok with unicode",
			settings: m("match", m("message", `<%{POSINT:syslog_pri}>%{SPACE}%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{PROG:syslog_program}(:?)(?:\[%{GREEDYDATA:syslog_pid}\])?(:?) %{GREEDYDATA:syslog_message}`)),
			in:       msg("<22>Jan  4 07:50:46 mailmaster postfix/policy-spf[9454]: : SPF permerror (Junk encountered in record 'v=spf1 mx a:mail.domain.no ip4:192.168.0.4 \ufffdall'): Envelope-from: email@domain.no"),
			want:     m("syslog_pri", "22", "syslog_program", "postfix/policy-spf")},
		{name: "nil coerced value: a number", settings: m("match", m("message", nilFloat)), in: msg("test 28.4ms"), want: m("duration", 28.4)},
		{name: "nil coerced value: not captured", settings: m("match", m("message", nilFloat)), in: msg("test N/A"), want: m("duration", absent)},
		{name: "nil coerced value: no match", settings: m("match", m("message", nilFloat)), in: msg("test abc"), want: m("duration", absent), tags: []string{"_grokparsefailure"}},
		{name: "nil coerced value and keep_empty_captures", settings: m("match", m("message", nilFloat), "keep_empty_captures", true), in: msg("test N/A"), want: m("duration", nil)},
		{name: "no coercion: a number", settings: m("match", m("message", "test (N/A|%{BASE10NUM:duration}ms)")), in: msg("test 28.4ms"), want: m("duration", "28.4")},
		{name: "no coercion: not captured", settings: m("match", m("message", "test (N/A|%{BASE10NUM:duration}ms)")), in: msg("test N/A"), want: m("duration", absent)},
		{name: "JSON-serialised values unchanged",
			settings: m("match", m("message", "Failed password for (invalid user |)%{USERNAME:username} from %{IP:src_ip} port %{BASE10NUM:port}"),
				"remove_field", l("message", "severity"), "add_tag", l("ssh_failure")),
			in:   m("facility", "auth", "message", "Failed password for testuser from 1.1.1.1 port 22"),
			want: m("username", "testuser", "port", "22", "src_ip", "1.1.1.1", "message", absent), tags: []string{"ssh_failure"}},
		{name: "inline pattern definition extracts fields",
			settings: m("match", m("message", "%{APACHE_TIME:timestamp} %{LOGLEVEL:level} %{MY_PATTERN:hindsight}"),
				"pattern_definitions", m("APACHE_TIME", "%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{YEAR}", "MY_PATTERN", "%{YEAR}")),
			in: msg("Mon Dec 26 16:22:08 2016 error 2020"), want: m("timestamp", "Mon Dec 26 16:22:08 2016", "level", "error", "hindsight", "2020")},
		{name: "inline pattern definition overwrites a standard one",
			settings: m("match", m("message", "%{APACHE_TIME:timestamp} %{LOGLEVEL:level}"),
				"pattern_definitions", m("APACHE_TIME", "%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{YEAR}", "LOGLEVEL", "%{NUMBER}")),
			in: msg("Mon Dec 26 16:22:08 2016 9999"), want: m("timestamp", "Mon Dec 26 16:22:08 2016", "level", "9999")},
		{name: "LOGSTASH-1547 break_on_match false, several patterns: treebranch",
			settings: m("match", m("message", l("%{GREEDYDATA:name1}beard", "tree%{GREEDYDATA:name2}")), "break_on_match", false),
			in:       msg("treebranch"), want: m("name2", "branch")},
		{name: "LOGSTASH-1547: bushbeard",
			settings: m("match", m("message", l("%{GREEDYDATA:name1}beard", "tree%{GREEDYDATA:name2}")), "break_on_match", false),
			in:       msg("bushbeard"), want: m("name1", "bush")},
		{name: "LOGSTASH-1547: treebeard",
			settings: m("match", m("message", l("%{GREEDYDATA:name1}beard", "tree%{GREEDYDATA:name2}")), "break_on_match", false),
			in:       msg("treebeard"), want: m("name1", "tree", "name2", "beard")},
	}
	// The docs page's overwrite examples. Its DATA one claims "hello
	// world" replaces the message; DATA is lazy and last, so it captures
	// "" in Logstash too (README: Existing fields).
	sadness := "May 29 16:37:11 sadness logger: hello world"
	cases = append(cases,
		filterSpecCase{name: "docs: overwrite with a final DATA", settings: m("match", m("message", "%{SYSLOGBASE} %{DATA:message}"), "overwrite", l("message")),
			in: msg(sadness), want: m("message", sadness, "[process][name]", "logger")},
		filterSpecCase{name: "docs: overwrite with GREEDYDATA", settings: m("match", m("message", "%{SYSLOGBASE} %{GREEDYDATA:message}"), "overwrite", l("message")),
			in: msg(sadness), want: m("message", "hello world")},
		filterSpecCase{name: "docs: overwrite of a field reference", settings: m("match", m("somefield", "%{NUMBER} %{GREEDYDATA:[nested][field][test]}"), "overwrite", l("[nested][field][test]")),
			in: m("somefield", "1 new", "nested", m("field", m("test", "old"))), want: m("[nested][field][test]", "new")},
		filterSpecCase{name: "docs: without overwrite, a list", settings: m("match", m("somefield", "%{NUMBER} %{GREEDYDATA:[nested][field][test]}")),
			in: m("somefield", "1 new", "nested", m("field", m("test", "old"))), want: m("[nested][field][test]", l("old", "new"))},
	)
	var many []any
	for _, p := range strings.Fields("f e d c b") {
		many = append(many, "(.*"+p+"){20}")
	}
	for range 3 {
		for n := 25; n > 20; n-- {
			many = append(many, "(.*a){"+strconv.Itoa(n)+"}")
		}
	}
	many = append(many, "(.*a){20}")
	cases = append(cases, filterSpecCase{name: "no timeout on failure with multiple patterns (timeout_scope pattern)",
		settings: m("match", m("message", many), "timeout_millis", 750, "timeout_scope", "pattern"),
		in:       msg(strings.Repeat("b", 15) + strings.Repeat("c", 15) + strings.Repeat("d", 15) + strings.Repeat("e", 15) + " " + strings.Repeat("a", 20))})
	for _, level := range strings.Fields(`trace Trace TRACE debug Debug DEBUG notice Notice Notice info Info INFO
		warn warning Warn Warning WARN WARNING err error Err Error ERR ERROR crit critical Crit Critical CRIT CRITICAL
		fatal Fatal FATAL severe Severe SEVERE emerg emergency Emerg Emergency EMERG EMERGENCY`) {
		cases = append(cases, filterSpecCase{name: "LOGLEVEL " + level, settings: m("match", m("message", "%{LOGLEVEL:level}: error!")),
			in: msg(level + ": error!"), want: m("level", level)})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := one(t, c.settings, c.in)
			for ref, want := range c.want {
				got, ok := e.Get(ref)
				if want == absent {
					if ok {
						t.Errorf("%s = %#v, want it absent", ref, got)
					}
					continue
				}
				if !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v (present %v), want %#v", ref, got, ok, want)
				}
			}
			if got := e.Tags(); !reflect.DeepEqual(got, c.tags) {
				t.Errorf("tags %q, want %q", got, c.tags)
			}
		})
	}
}
