# A missing equals sign: HCL's own parse error, still with the line marked.
input "generator" "gen" {
  count 3
}

output "stdout" "out" {}

filter "grok" "parse" {
  match = { message = "%{IP:client} \d+" }
}
