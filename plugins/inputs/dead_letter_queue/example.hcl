# Send the events Elasticsearch refused (a field of the wrong type) again,
# this time into an index whose mapping takes them, with the reason kept.
input "dead_letter_queue" "rejected" {
  path        = "/var/lib/gostash/dead_letter_queue"
  pipeline_id = "main"
}

filter "mutate" "why" {
  add_field = {
    "dlq_reason" = "%{[@metadata][dead_letter_queue][reason]}"
  }
}

output "elasticsearch" "fixed" {
  hosts = ["http://localhost:9200"]
  index = "logs-fixed"
}
