# The quickstart pipeline: no server needed. `make run` runs it.
#
# generator makes a few Apache-like lines, the expr filter computes fields
# from them, and stdout prints every event the way Logstash's rubydebug
# codec does.

pipeline {
  workers    = 1
  batch_size = 500
}

input "generator" "sample" {
  lines = [
    "GET /index.html 200 512",
    "GET /missing 404 128",
    "POST /login 500 64",
  ]
  count = 3
}

filter "expr" "parse" {
  set = {
    "[http][method]" = "split(message, ' ')[0]"
    "[http][status]" = "int(split(message, ' ')[2])"
  }
}

filter "expr" "classify" {
  when    = "http.status >= 400"
  add_tag = ["error"]
}

output "stdout" "console" {
  codec = "rubydebug"
}
