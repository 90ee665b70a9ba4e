input "generator" "sample" {
  lines = ["GET /index.html 200 512", "POST /login 500 64"]
  count = 4
}

# Everything, the way Logstash prints it.
output "stdout" "debug" {
  codec = "rubydebug"
}

# Server errors only, one JSON object a line, @metadata included: ready
# for `jq`.
output "stdout" "errors" {
  when     = "message contains ' 500 '"
  codec    = "json_lines"
  metadata = true
}

# A line of your own making.
output "stdout" "summary" {
  codec  = "line"
  format = "%{+HH:mm:ss} %{[host][name]} %{message}"
}
