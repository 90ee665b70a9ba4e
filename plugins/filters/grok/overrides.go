package grok

import (
	"fmt"
	"strings"

	ecs "github.com/elastic/go-grok/patterns"
)

// Where a library's pattern differs from Logstash's in what a user sees
// (a field's name or type, a capture the library dropped, a match that
// eats a character it should not), Logstash wins. Each fix is an edit of
// the library's own text, so the data stays the library's and the edit
// says exactly what changed; TestOverridesApply fails when a library
// update moves the text an edit expects.

type edit struct{ old, new string }

// ecsEdits fix go-grok's ECS set.
var ecsEdits = map[string]struct {
	from  map[string]string
	edits []edit
}{
	// go-grok drops the program's name and pid; Logstash captures them.
	"SYSLOGPROG": {ecs.Default, []edit{
		{`%{PROG}(?:\[\d+\])?`, `%{PROG:process.name}(?:\[%{POSINT:process.pid:int}\])?`},
	}},
	// ... and the facility and priority.
	"SYSLOGFACILITY": {ecs.Default, []edit{
		{`<%{NONNEGINT}.%{NONNEGINT}>`, `<%{NONNEGINT:log.syslog.facility.code:int}.%{NONNEGINT:log.syslog.priority:int}>`},
	}},
	// Logstash puts the syslog host in [host][hostname].
	"SYSLOGBASE":  {ecs.Default, []edit{{`host.name`, `host.hostname`}}},
	"SYSLOGBASE2": {ecs.Syslog, []edit{{`host.name`, `host.hostname`}}},
	"SYSLOG5424BASE": {ecs.Syslog, []edit{
		{`host.name`, `host.hostname`},
		{`process.command`, `process.name`},
	}},
	// Logstash's seconds are not optional, and a time is not followed by
	// a digit.
	"TIME": {ecs.Default, []edit{
		{`%{HOUR}:%{MINUTE}(?::%{SECOND})?`, `(?!<[0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])`},
	}},
	// A number does not start inside another number.
	"BASE10NUM": {ecs.Default, []edit{{`([+-]?`, `(?<![0-9.+-])([+-]?`}}},
	// The body size is [http][response][body][bytes], an int.
	"HTTPD_COMMONLOG": {ecs.Httpd, []edit{{`http.response.body.size:long`, `http.response.body.bytes:int`}}},
	// go-grok misspells [bind][log][category].
	"BIND9_QUERYLOG": {ecs.Bind9, []edit{{`bing.log.category`, `bind.log.category`}}},
	// go-grok's typo: a stray [ in a field name.
	"CISCOFW733100": {ecs.Firewalls, []edit{{`%{DATA:[cisco.asa.burst.object}`, `%{DATA:cisco.asa.burst.object}`}}},
	// The message is captured by a lookahead, so the module name after it
	// is still matched from the same place.
	"SYSLOGPAMSESSION": {ecs.Syslog, []edit{{`(%{GREEDYDATA:message})`, `(?=%{GREEDYDATA:message})`}}},
}

// legacyEdits fix vjeantet/grok's legacy set.
var legacyEdits = map[string][]edit{
	// The library replaced Logstash's lookarounds with ([^0-9]?), which
	// puts the character around the time into the capture.
	"TIME": {{`([^0-9]?)%{HOUR}:%{MINUTE}(?::%{SECOND})([^0-9]?)`, `(?!<[0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])`}},
	// as BASE10NUM above
	"BASE10NUM": {{`([+-]?`, `(?<![0-9.+-])([+-]?`}},
	// Oniguruma reads .?* as (?:.?)*; RE2 syntax needs the group.
	"SHOREWALL": {{`.?*`, `(?:.?)*`}},
	// vjeantet/grok's own pattern has a capture with no name.
	"COMMONENVOYACCESSLOG": {{`%{DATA:}`, `%{DATA}`}},
}

var ecsOverrides map[string]string

func init() {
	ecsOverrides = map[string]string{}
	for name, e := range ecsEdits {
		def, err := applyEdits(e.from[name], e.edits)
		if err != nil {
			panic(fmt.Sprintf("grok: ECS pattern %s: %v", name, err))
		}
		ecsOverrides[name] = fromGoGrok(def)
	}
}

// applyLegacyEdits fixes the vendored legacy set; it runs once the set
// has loaded.
func applyLegacyEdits(set map[string]string) error {
	for name, edits := range legacyEdits {
		def, err := applyEdits(set[name], edits)
		if err != nil {
			return fmt.Errorf("legacy pattern %s: %v", name, err)
		}
		set[name] = def
	}
	for name, def := range legacyExtra {
		set[name] = def
	}
	// Logstash's legacy httpd file names the access logs HTTPD_*LOG too.
	set["HTTPD_COMMONLOG"] = set["COMMONAPACHELOG"]
	set["HTTPD_COMBINEDLOG"] = strings.ReplaceAll(set["COMBINEDAPACHELOG"], "%{COMMONAPACHELOG}", "%{HTTPD_COMMONLOG}")
	return nil
}

func applyEdits(def string, edits []edit) (string, error) {
	for _, e := range edits {
		if !strings.Contains(def, e.old) {
			return "", fmt.Errorf("%q not found in %q", e.old, def)
		}
		def = strings.ReplaceAll(def, e.old, e.new)
	}
	return def, nil
}

// legacyExtra adds the legacy patterns vjeantet/grok does not carry
// (bind, squid), made from go-grok's ECS ones with the legacy field
// names.
var legacyExtra = map[string]string{}

func init() {
	legacy := func(def string, names map[string]string) string {
		for ecsName, legacyName := range names {
			def = strings.ReplaceAll(def, ":"+ecsName+"}", ":"+legacyName+"}")
		}
		return fromGoGrok(def)
	}
	legacyExtra["BIND9_TIMESTAMP"] = ecs.Bind9["BIND9_TIMESTAMP"]
	legacyExtra["BIND9_DNSTYPE"] = ecs.Bind9["BIND9_DNSTYPE"]
	legacyExtra["BIND9"] = legacy(strings.ReplaceAll(
		"%{BIND9_TIMESTAMP:timestamp} queries: %{LOGLEVEL:log.level}: "+ecs.Bind9["BIND9_QUERYLOGBASE"],
		"(?P<dns___question___class>(?:IN))", "IN"), map[string]string{
		"log.level":               "loglevel",
		"client.address":          "clientip",
		"client.port:int":         "clientport",
		"bind.log.question.name":  "query",
		"dns.question.name":       "query",
		"dns.question.type":       "querytype",
		"bind.log.question.flags": "flags",
		"server.address":          "dns",
	})
	legacyExtra["SQUID3_STATUS"] = legacy(ecs.Squid["SQUID3_STATUS"], map[string]string{
		"http.response.status_code:int": "status_code",
	})
	legacyExtra["SQUID3"] = legacy(ecs.Squid["SQUID3"], map[string]string{
		"squid.request.duration:int": "duration",
		"source.address":             "client_address",
		"event.action":               "cache_result",
		"http.response.bytes:long":   "bytes",
		"http.request.method":        "request_method",
		"url.original":               "url",
		"user.name":                  "user",
		"squid.hierarchy_code":       "hierarchy_code",
		"destination.address":        "server",
		"http.response.mime_type":    "content_type",
	})
}
