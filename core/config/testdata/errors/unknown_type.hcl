input "genrator" "gen" {
  count = 10
}

filter "exrp" "tag" {}

output "stdout" "out" {}
