# Type lines, or pipe a file in:
#   cat access.log | gostash -f example.hcl
input "stdin" "console" {}

# One JSON object a line, as `jq -c` prints them:
#   jq -c '.[]' events.json | gostash -f example.hcl
# input "stdin" "json" {
#   codec = "json_lines"
# }

# A Java log, each stack trace one event:
#   java -jar app.jar 2>&1 | gostash -f example.hcl
# input "stdin" "java" {
#   codec = "multiline"
#   multiline = {
#     pattern             = "^\\d{4}-\\d{2}-\\d{2} "
#     negate              = true
#     what                = "previous"
#     auto_flush_interval = "2s"
#   }
# }

output "stdout" "console" {
  codec = "rubydebug"
}
