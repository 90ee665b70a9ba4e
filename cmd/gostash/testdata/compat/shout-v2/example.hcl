# `make build`, then: gostash -f example.hcl
plugin "shout" {
  path = "./gostash-shout"
}

input "generator" "gen" {
  lines = ["hello", "world"]
  count = 2
}

filter "shout" "loud" {
  field = "message"
}

output "stdout" "out" {
  codec = "json_lines"
}
