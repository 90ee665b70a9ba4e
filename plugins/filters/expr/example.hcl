input "generator" "sample" {
  lines = [
    "GET /index.html 200 512",
    "GET /missing 404 128",
    "POST /login 500 64",
    "GET /health 200 2",
  ]
  count = 8
}

# Health checks are noise: drop them before anything else looks at them.
filter "expr" "noise" {
  drop = "message contains '/health'"
}

# Split the line into fields. Every expression sees the event as it came
# in, so they can all read message; remove runs after set.
filter "expr" "parse" {
  set = {
    "[http][method]"   = "split(message, ' ')[0]"
    "[url][path]"      = "split(message, ' ')[1]"
    "[http][status]"   = "int(split(message, ' ')[2])"
    "[http][bytes]"    = "int(split(message, ' ')[3])"
    "[@metadata][raw]" = "message"
  }
  remove = ["message"]
}

# Only server errors: the common options add_tag and add_field apply when
# the filter succeeds.
filter "expr" "classify" {
  when      = "http.status >= 500"
  set       = { "[event][severity]" = "http.bytes > 100 ? 'high' : 'low'" }
  add_tag   = ["server_error"]
  add_field = { "[labels][raw]" = "%{[@metadata][raw]}" }
}

output "stdout" "console" {
  codec = "rubydebug"
}
