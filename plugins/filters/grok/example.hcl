# grok: Apache access lines into ECS fields, with Logstash's patterns.
#
#   gostash -f plugins/filters/grok/example.hcl

input "generator" "access" {
  lines = [
    "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"",
    "10.0.0.5 - - [22/Nov/2026:08:01:02 +0000] \"POST /api/v1/login HTTP/1.1\" 302 - \"-\" \"curl/8.5.0\"",
    "this line is not an access log",
  ]
  count = 3
}

filter "grok" "access" {
  # One pattern, or a list tried in order; matching is unanchored, as in
  # Logstash.
  match = {
    message = ["%{COMBINEDAPACHELOG}", "%{SYSLOGLINE}"]
  }
  # ecs_compatibility = "disabled" gives the legacy names (clientip, verb...).
  ecs_compatibility = "v8"
  # Your own patterns, usable as %{QUEUEID} in match.
  pattern_definitions = {
    QUEUEID = "[0-9A-F]{10,11}"
  }
  # Replace message instead of turning it into [old, new].
  overwrite      = ["message"]
  tag_on_failure = ["_grokparsefailure"]
  add_tag        = ["parsed"]
  timeout_millis = 1000
}

output "stdout" "console" {
  codec = "rubydebug"
}
