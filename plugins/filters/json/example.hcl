# json: JSON application logs read as lines, parsed into the event.
#
#   gostash -f plugins/filters/json/example.hcl

input "generator" "lines" {
  lines = [
    "{\"@timestamp\":\"2026-12-04T10:00:00.123Z\",\"level\":\"info\",\"user\":\"ada\",\"http\":{\"status\":200}}",
    "{\"@timestamp\":\"yesterday\",\"level\":\"warn\"}",
    "[{\"id\":1},{\"id\":2}]",
    "not json at all",
  ]
  count = 4
}

# Objects go to the root: @timestamp becomes the event's time (or, when it
# is not a time, _@timestamp + _timestampparsefailure). A top-level array
# has no place at the root: tagged _jsonparsefailure.
filter "json" "line" {
  source       = "message"
  remove_field = ["message"]
}

# Arrays (and anything else) need a target.
filter "json" "array" {
  when         = "tags != nil && '_jsonparsefailure' in tags && message startsWith '['"
  source       = "message"
  target       = "items"
  # this one did parse: take the first filter's tag off
  remove_tag   = ["_jsonparsefailure"]
  remove_field = ["message"]
}

output "stdout" "console" {
  codec = "rubydebug"
}
