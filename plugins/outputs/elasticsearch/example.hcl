# Ship syslog from Kafka to Elasticsearch in monthly indices, one document
# per record: the id from the record's coordinates makes a retransmit after
# a crash overwrite its document instead of adding a second copy.

input "kafka" "syslog" {
  bootstrap_servers = "kafka1:9092,kafka2:9092"
  topics            = ["system-messages"]
  group_id          = "gostash-es"
}

filter "decorate_events" "kafka" {}

output "elasticsearch" "search" {
  hosts       = ["https://es1:9200", "https://es2:9200"]
  index       = "test-system-messages-%{+YYYY.MM}"
  document_id = "%{[@metadata][kafka][topic]}-%{[@metadata][kafka][partition]}-%{[@metadata][kafka][offset]}"

  # With security on:
  #   api_key                     = "${env.ES_API_KEY}"
  #   ssl_certificate_authorities = ["/etc/gostash/es-ca.pem"]
  # or a client certificate, for a cluster that asks for one:
  #   ssl_certificate = "/etc/gostash/client.pem"
  #   ssl_key         = "/etc/gostash/client.key"
  # On Elastic Cloud, instead of hosts and the above:
  #   cloud_id   = "${env.ES_CLOUD_ID}"
  #   cloud_auth = "${env.ES_CLOUD_AUTH}"

  # A small cluster: at most two bulk requests at once, whatever the workers.
  #   pool_max = 2

  # A document the cluster keeps refusing (429, 5xx) goes to the dead
  # letter queue after 10 retries instead of holding the pipeline for ever.
  max_retries = 10
}
