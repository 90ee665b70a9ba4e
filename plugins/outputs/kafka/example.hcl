# Ship syslog to Kafka, snappy-compressed, one topic per program, keyed by
# host so that one host's lines stay in order.

input "file" "messages" {
  path = ["/var/log/messages"]
}

filter "grok" "syslog" {
  match = { message = ["%{SYSLOGLINE}"] }
}

output "kafka" "cluster" {
  bootstrap_servers = "kafka1:9092,kafka2:9092,kafka3:9092"
  topic_id          = "syslog-%{program}"
  message_key       = "%{[host][hostname]}"
  message_headers   = { source = "%{[log][file][path]}" }
  compression_type  = "snappy"
  codec             = "json"
}
