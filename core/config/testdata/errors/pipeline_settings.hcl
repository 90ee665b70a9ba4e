pipeline {
  id          = "main"
  workers     = 0
  batch_size  = -5
  batch_delay = "50 ms"
  worker      = 2
}

input "generator" "gen" {}
output "stdout" "out" {}
