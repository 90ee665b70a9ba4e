input "generator" "gen" {
  message = "host ${env.GOSTASH_TEST_HOST} says %{message}"
}

output "kafka" "cluster" {
  bootstrap_servers = ["${env.GOSTASH_TEST_HOTS}:9092"]
  topic_id          = "${TOPIC}"
  compression_type  = "${env["GOSTASH_TEST_UNSET_COMPRESSION"]}"
}
