input "generator" "gen" {
  count = 1
  count = 2
}

filter "expr" "tag" {
  set = {
    "[host][name]" = "%{[beat][hostname]}"
    "[env]"        = "prod"
    "[host][name]" = "%{host}"
  }
}

output "stdout" "out" {}
