input "stdin" "lines" {}

input "generator" "gen" {}

input "stdin" "json" {
  codec = "json_lines"
}

output "stdout" "out" {}
