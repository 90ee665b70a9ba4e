pipeline {
  workers = 40000
}

input "generator" "gen" {}
output "stdout" "out" {}
