input "generator" "gen" {}

filter "grok" "parse" {
  break_on_match = false
}

output "kafka" "cluster" {
  bootstrap_servers = ["127.0.0.1:9092"]
}
