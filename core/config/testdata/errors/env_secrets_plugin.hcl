input "generator" "gen" {
  message = "BAD ${env.GOSTASH_TEST_SECRET}"
}

output "stdout" "out" {}
