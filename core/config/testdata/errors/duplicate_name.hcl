input "generator" "gen" {}

filter "expr" "tag" {
  set = { a = "1" }
}

filter "expr" "tag" {
  set = { b = "2" }
}

# The same name in another kind is fine.
output "stdout" "tag" {}
