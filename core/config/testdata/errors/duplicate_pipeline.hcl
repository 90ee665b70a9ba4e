pipeline {
  workers = 2
}

pipeline {
  batch_size = 500
}

input "generator" "gen" {}
output "stdout" "out" {}
