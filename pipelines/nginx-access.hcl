# Ship nginx access logs: tail them, parse each line with Logstash's
# COMBINEDAPACHELOG pattern into ECS fields, drop the health checks, take
# @timestamp from the line, and archive the events as JSON, one file per day
# (the day the request was served, not the day gostash read it). Lines that
# do not parse keep their text and are tagged _grokparsefailure; they go to a
# file of their own.
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

# ECS names; the status code and body size are already integers
# (http.response.status_code, http.response.body.bytes), the time is in
# "timestamp" as in Logstash's ECS pattern.
filter "grok" "access" {
  match = { message = "%{COMBINEDAPACHELOG}" }
}

# Logstash: if [url][original] == "/healthz" or [user_agent][original] =~ /ELB-HealthChecker|kube-probe/ { drop {} }
filter "expr" "health_checks" {
  drop = "url?.original == '/healthz' || (user_agent?.original ?? '') matches '^(ELB-HealthChecker|kube-probe)/'"
}

# 10/Oct/2026:13:55:36 +0200 → @timestamp; the text goes once it is read
# (remove_field applies only on success: a line it cannot read keeps it,
# tagged _dateparsefailure).
filter "date" "served_at" {
  match        = ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z"]
  remove_field = ["timestamp"]
}

# The path without its query string, for aggregations; mutate runs copy
# after gsub whatever the order written, so the two steps are two filters.
filter "mutate" "path" {
  copy = { "[url][original]" = "[url][path]" }
}

filter "mutate" "path_only" {
  gsub = ["[url][path]", "\\?.*", ""]
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
