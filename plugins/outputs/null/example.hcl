input "generator" "gen" {
  count = 1000000
}

output "null" "discard" {}
