# Ship nginx access logs: tail them, parse each line with Logstash's
# COMBINEDAPACHELOG pattern into ECS fields, and archive the events as JSON,
# one file per day. Lines that do not parse keep their text and are tagged
# _grokparsefailure; they go to a file of their own.
#
#   gostash -f pipelines/nginx-access.hcl --path.data /var/lib/gostash

pipeline {
  workers = 2
}

input "file" "nginx" {
  path           = ["/var/log/nginx/access.log*"]
  exclude        = ["*.gz"]
  start_position = "beginning"
  type           = "nginx-access"
}

filter "grok" "access" {
  match = { message = "%{COMBINEDAPACHELOG}" }
}

filter "expr" "classify" {
  when    = "(http.response.status_code ?? 0) >= 500"
  add_tag = ["server_error"]
}

output "file" "archive" {
  when = "!('_grokparsefailure' in tags)"
  path = "/var/log/gostash/nginx/%{+YYYY-MM-dd}.json"
}

output "file" "unparsed" {
  when   = "'_grokparsefailure' in tags"
  path   = "/var/log/gostash/nginx/unparsed.log"
  codec  = "line"
  format = "%{[log][file][path]}: %{message}"
}
