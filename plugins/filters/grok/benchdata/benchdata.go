// Package benchdata makes the synthetic log lines grok's benchmarks run
// on: the filter's own (plugins/filters/grok) and the whole pipeline's
// (cmd/gostash). Each function is deterministic, so every run and every
// benchmark sees the same lines. It is not under internal/ because Go
// would then keep cmd/gostash from importing it; it is test data, not API.
package benchdata

import (
	"fmt"
	"math/rand"
)

var (
	agents = []string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"curl/8.5.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
		"Go-http-client/1.1",
	}
	paths = []string{"/", "/index.html", "/api/v1/items?page=2&size=50", "/static/app.3f2a1c.js", "/login", "/images/logo.png"}
	verbs = []string{"GET", "GET", "GET", "POST", "PUT", "HEAD"}
)

// Apache returns n Apache combined log lines of ~190 bytes (IPv4 clients,
// "-" and real users, sizes and referrers), shaped like real ones.
func Apache(n int) []string {
	rng := rand.New(rand.NewSource(42))
	out := make([]string, n)
	for i := range out {
		ip := fmt.Sprintf("%d.%d.%d.%d", 10+rng.Intn(200), rng.Intn(256), rng.Intn(256), 1+rng.Intn(254))
		user := "-"
		if rng.Intn(4) == 0 {
			user = "frank"
		}
		size := "-"
		if rng.Intn(10) > 0 {
			size = fmt.Sprint(rng.Intn(50000))
		}
		ref := "-"
		if rng.Intn(2) == 0 {
			ref = "https://www.example.com" + paths[rng.Intn(len(paths))]
		}
		out[i] = fmt.Sprintf(`%s - %s [%02d/Nov/2026:%02d:%02d:%02d +0000] "%s %s HTTP/1.1" %d %s "%s" "%s"`,
			ip, user, 1+rng.Intn(28), rng.Intn(24), rng.Intn(60), rng.Intn(60),
			verbs[rng.Intn(len(verbs))], paths[rng.Intn(len(paths))], []int{200, 200, 200, 304, 404, 500}[rng.Intn(6)],
			size, ref, agents[rng.Intn(len(agents))])
	}
	return out
}

// Syslog returns n RFC 3164 lines such as
// "Nov 22 08:15:01 web-07 sshd[4242]: Accepted publickey ...".
func Syslog(n int) []string {
	rng := rand.New(rand.NewSource(7))
	progs := []string{"sshd", "CRON", "systemd", "kernel", "postfix/smtpd"}
	msgs := []string{"Accepted publickey for deploy from 203.0.113.9 port 51122 ssh2",
		"(root) CMD (run-parts /etc/cron.hourly)", "Started Session 42 of user deploy.",
		"connect from unknown[198.51.100.7]"}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("Nov %2d %02d:%02d:%02d web-%02d %s[%d]: %s", 1+rng.Intn(28), rng.Intn(24), rng.Intn(60), rng.Intn(60),
			rng.Intn(20), progs[rng.Intn(len(progs))], 100+rng.Intn(30000), msgs[rng.Intn(len(msgs))])
	}
	return out
}

// Miss returns n JSON log lines, which match none of MissPatterns.
func Miss(n int) []string {
	rng := rand.New(rand.NewSource(9))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"@timestamp":"2026-11-22T08:%02d:%02d.123Z","level":"info","service":"checkout","msg":"order placed","order_id":%d,"duration_ms":%.1f,"path":"/api/v1/orders"}`,
			rng.Intn(60), rng.Intn(60), rng.Intn(1000000), rng.Float64()*100)
	}
	return out
}

// MissPatterns is a typical 3-pattern match list, the one Miss's lines
// are run against.
var MissPatterns = []string{"%{COMBINEDAPACHELOG}", "%{SYSLOGLINE}", "%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{GREEDYDATA:msg}"}
