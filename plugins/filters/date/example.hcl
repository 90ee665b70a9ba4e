# date: the time a log line names becomes @timestamp, so a date-based index
# (logs-%{+YYYY.MM.dd}) files each event under the day it happened.
#
#   gostash -f plugins/filters/date/example.hcl

input "generator" "lines" {
  lines = [
    "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326",
    "Dec  4 09:15:02 web1 sshd[4121]: Accepted publickey for deploy",
    "2026-12-04T09:15:02.123456Z app started",
  ]
  count = 3
}

filter "grok" "split" {
  match = {
    message = [
      "\\[%{HTTPDATE:when}\\]",
      "^%{SYSLOGTIMESTAMP:when} ",
      "^%{TIMESTAMP_ISO8601:when} ",
    ]
  }
}

filter "date" "when" {
  # The field first, then the formats, tried in order: Joda-Time patterns
  # or ISO8601, UNIX, UNIX_MS, TAI64N. Syslog pads one-digit days with a
  # space, hence two patterns; without a year, this year is taken, but
  # last year for December read in January and next year for January
  # read in December, as Logstash.
  match = ["when", "dd/MMM/yyyy:HH:mm:ss Z", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss", "ISO8601"]
  # For texts that name no zone (the syslog line); an offset in the text
  # wins. May be a template such as "%{[host][timezone]}".
  timezone       = "Europe/Berlin"
  locale         = "en"
  target         = "@timestamp"
  tag_on_failure = ["_dateparsefailure"]
  remove_field   = ["when"]
}

output "stdout" "console" {
  codec = "rubydebug"
}
