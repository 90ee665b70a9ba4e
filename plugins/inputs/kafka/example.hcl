# Several gostash processes with this file share the topic's partitions:
# run one per machine (or more) and Kafka balances them.

input "kafka" "access" {
  bootstrap_servers = "kafka1:9092,kafka2:9092,kafka3:9092"
  topics            = ["nginx-access"]
  group_id          = "gostash-nginx"
  consumer_threads  = 2
  auto_offset_reset = "earliest"
  decorate_events   = "basic"
}

filter "grok" "access" {
  match = { message = ["%{COMBINEDAPACHELOG}"] }
}

output "file" "archive" {
  path = "/var/log/archive/%{+YYYY-MM-dd}/access-%{[@metadata][kafka][partition]}.json"
}
