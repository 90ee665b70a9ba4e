# Every problem at once: gostash reports them all, in file order.
pipeline {
  workers    = 0
  batch_size = "big"
}

input "generator" "gen" {
  coutn = 5
}

input "generator" "gen" {}

filter "grok" "parse" {
  timeout = "soon"
}

filtre "expr" "tag" {}

output "stdout" "out" {
  codec = "json"
}

output "kafka" "cluster" {
  topicid = "logs"
}
