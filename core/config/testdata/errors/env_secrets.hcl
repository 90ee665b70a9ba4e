input "generator" "gen" {
  count   = "${env.GOSTASH_TEST_SECRET}"
  message = "BAD ${env.GOSTASH_TEST_SECRET}"
}

output "kafka" "cluster" {
  topic_id         = "logs"
  compression_type = "${env.GOSTASH_TEST_SECRET}"
  retry_backoff    = "x${env.GOSTASH_TEST_SECRET}"
}
