# kv: key=value pairs out of a log line and out of a query string.
#
#   gostash -f plugins/filters/kv/example.hcl

input "generator" "lines" {
  lines = [
    "ts=2026-12-04T10:00:00Z level=info user=ada status=200 msg=\"order placed\" path=/api/orders?id=7&ref=mail",
    "LEVEL = warn   retries=3, tags=[a b] junk here",
  ]
  count = 2
}

filter "kv" "line" {
  # defaults: source = "message", field_split = " ", value_split = "="
  exclude_keys    = ["ts"]
  default_keys    = { level = "unknown" }
  transform_key   = "lowercase"  # Level=, LEVEL= and level= are one key
  trim_value      = ","          # postfix-style values end in commas
  # a hostile line cannot make more than this (then _kv_filter_limit)
  max_keys = 100
}

filter "kv" "query" {
  when        = "path != nil && path contains '?'"
  source      = "path"
  target      = "[url][query]"
  field_split = "&?"
  include_keys = ["id", "ref"]
  prefix      = "q_"
}

output "stdout" "console" {
  codec = "rubydebug"
}
