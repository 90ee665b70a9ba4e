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

// AccessLog returns n Apache combined log lines shaped like other
// people's logs rather than ours: IPv4 and IPv6 clients, "-", plain and
// e-mail users, eight verbs, paths with query strings, referrers from
// other sites, user agents of 100 to 250 bytes, and one line in ten that
// is no access log line at all (a truncated line, a JSON line, an error
// log line...), which must come out tagged.
func AccessLog(n int) []string {
	rng := rand.New(rand.NewSource(13))
	verbs := []string{"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "PROPFIND"}
	words := []string{"api", "v2", "users", "orders", "search", "static", "img", "catalog", "cart", "checkout", "reports", "export"}
	keys := []string{"q", "page", "size", "sort", "utm_source", "utm_campaign", "session", "lang", "filter", "ref", "token"}
	vals := []string{"1", "50", "desc", "newsletter", "spring%20sale", "en-US", "a1b2c3d4e5f6", "price%3Clt%3E100", "true", "%E2%9C%93"}
	users := []string{"-", "-", "-", "-", "frank", "j.doe", "alice@example.com", "svc-backup@ops.example.org", "bob.smith+billing@mail.example.co.uk"}
	sites := []string{"https://www.google.com/search?q=", "https://duckduckgo.com/?q=", "https://shop.example.com/cart?item=", "http://localhost:8080/", "android-app://com.example.app/"}
	uaParts := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko)",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	uaTails := []string{" Chrome/121.0.6167.160 Safari/537.36", " Version/17.3 Mobile/15E148 Safari/604.1", " Edg/121.0.2277.128",
		" Firefox/122.0", " [FBAN/FBIOS;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.3.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
		" OPR/107.0.0.0 (Edition std-1)", " SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"}
	misses := []string{
		`{"time":"2026-11-22T08:00:00Z","level":"warn","msg":"upstream timed out","upstream":"10.0.0.7:8080"}`,
		`[Sun Nov 22 08:15:01.123456 2026] [proxy:error] [pid 4242:tid 1399] AH00957: HTTP: attempt to connect to 10.0.0.7:8080 failed`,
		`2026/11/22 08:15:01 [error] 31#31: *4 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory)`,
		`- - - [22/Nov/2026:08:15:01 +0000] "-" 408 0 "-" "-"`,
	}
	path := func() string {
		p := ""
		for range 1 + rng.Intn(4) {
			p += "/" + words[rng.Intn(len(words))]
		}
		if rng.Intn(3) > 0 {
			for i := range 1 + rng.Intn(5) {
				sep := "&"
				if i == 0 {
					sep = "?"
				}
				p += sep + keys[rng.Intn(len(keys))] + "=" + vals[rng.Intn(len(vals))]
			}
		}
		return p
	}
	out := make([]string, n)
	for i := range out {
		if AccessLogMiss(i) {
			m := misses[rng.Intn(len(misses))]
			if rng.Intn(2) == 0 { // or a real line cut short
				m = fmt.Sprintf(`203.0.113.%d - - [22/Nov/2026:08:15:%02d +0000] "GET %s`, rng.Intn(256), rng.Intn(60), path())
			}
			out[i] = m
			continue
		}
		var ip string
		if rng.Intn(3) == 0 {
			ip = fmt.Sprintf("2001:db8:%x:%x::%x", rng.Intn(0x10000), rng.Intn(0x10000), 1+rng.Intn(0xffff))
		} else {
			ip = fmt.Sprintf("%d.%d.%d.%d", 1+rng.Intn(223), rng.Intn(256), rng.Intn(256), 1+rng.Intn(254))
		}
		size := "-"
		if rng.Intn(8) > 0 {
			size = fmt.Sprint(rng.Intn(2000000))
		}
		ref := "-"
		if rng.Intn(3) > 0 {
			ref = sites[rng.Intn(len(sites))] + words[rng.Intn(len(words))]
		}
		ua := uaParts[rng.Intn(len(uaParts))]
		for len(ua) < 100 || len(ua) < 250 && rng.Intn(3) > 0 {
			ua += uaTails[rng.Intn(len(uaTails))]
		}
		if len(ua) > 250 {
			ua = ua[:250]
		}
		out[i] = fmt.Sprintf(`%s - %s [%02d/%s/2026:%02d:%02d:%02d %s] "%s %s HTTP/%s" %d %s "%s" "%s"`,
			ip, users[rng.Intn(len(users))], 1+rng.Intn(28), []string{"Jan", "Mar", "Jun", "Nov", "Dec"}[rng.Intn(5)],
			rng.Intn(24), rng.Intn(60), rng.Intn(60), []string{"+0000", "-0700", "+0530"}[rng.Intn(3)],
			verbs[rng.Intn(len(verbs))], path(), []string{"1.1", "1.1", "1.0", "2.0"}[rng.Intn(4)],
			[]int{200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 503}[rng.Intn(13)], size, ref, ua)
	}
	return out
}

// AccessLogMiss says whether AccessLog's line i is one that matches no
// access log pattern.
func AccessLogMiss(i int) bool { return i%10 == 9 }
