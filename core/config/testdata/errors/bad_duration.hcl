input "generator" "gen" {}

filter "grok" "parse" {
  match   = { message = "%{COMBINEDAPACHELOG}" }
  timeout = "30"
}

output "kafka" "cluster" {
  topic_id      = "logs"
  retry_backoff = "100 millis"
}
