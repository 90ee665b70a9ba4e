input "stdin" "in" {
  codec = "jsonlines"
}

output "stdout" "out" {
  codec = "json"
}

output "kafka" "cluster" {
  topic_id         = "logs"
  compression_type = "brotli"
}
