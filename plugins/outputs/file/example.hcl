# Archive every event as JSON, one file per host and day, and keep the
# errors as plain lines too.

input "file" "messages" {
  path = ["/var/log/messages"]
}

output "file" "archive" {
  path      = "/var/log/archive/%{+YYYY-MM-dd}/%{[host][name]}.json"
  file_mode = "0640"
  dir_mode  = "0750"
}

output "file" "errors" {
  when   = "message contains 'error'"
  path   = "/var/log/archive/errors.log"
  codec  = "line"
  format = "%{[log][file][path]}: %{message}"
  fsync  = true
}
