# The seeds' second job: read a topic in a consumer group and keep where
# each record came from in the indexed document, as Logstash 2.x's
# decorate_events => true did.

input "kafka" "messages" {
  bootstrap_servers = "kafka1:9092"
  topics            = ["system-messages"]
  group_id          = "gostash"
  consumer_threads  = 3
}

filter "decorate_events" "kafka" {
  target  = "[kafka]"
  headers = true
}

output "file" "out" {
  path = "/var/log/archive/%{[kafka][topic]}-%{+YYYY.MM.dd}.json"
}
