# Type lines, or pipe a file in:
#   cat access.log | gostash -f example.hcl
input "stdin" "console" {}

# One JSON object a line, as `jq -c` prints them:
#   jq -c '.[]' events.json | gostash -f example.hcl
# input "stdin" "json" {
#   codec = "json_lines"
# }

output "stdout" "console" {
  codec = "rubydebug"
}
