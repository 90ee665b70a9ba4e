input "generator" "gen" {
  coutn = 3
}

output "kafka" "cluster" {
  topicid           = "logs"
  bootstrap_servers = ["127.0.0.1:9092"]
}
