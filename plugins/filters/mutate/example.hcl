# nginx access lines, after grok: names fixed, numbers made numbers, the
# query string cut off, the method in lower case, the client copied to an
# ECS place. Written in any order: mutate applies them in Logstash's.

input "file" "nginx" {
  path = ["/var/log/nginx/access.log"]
}

filter "grok" "access" {
  match             = { message = "%{COMBINEDAPACHELOG}" }
  ecs_compatibility = "disabled"
}

filter "mutate" "shape" {
  rename    = { agent = "[user_agent][original]" }
  convert   = { response = "integer", bytes = "integer" }
  gsub      = ["request", "\\?.*", ""]
  lowercase = ["verb"]
  copy      = { clientip = "[source][ip]" }
  replace   = { "[event][dataset]" = "nginx.%{type}" }
  remove_field = ["ident", "auth"]
}

output "stdout" "out" {
  codec = "rubydebug"
}
