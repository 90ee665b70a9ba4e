# Tail nginx's access logs, and ship Java stack traces as one event each.

input "file" "nginx" {
  path           = ["/var/log/nginx/*.log"]
  exclude        = ["*.gz"]
  start_position = "beginning"
  type           = "nginx-access"
}

input "file" "app" {
  path  = ["/var/log/app/**/*.log"]
  codec = "multiline"
  multiline = {
    pattern = "^\\d{4}-\\d{2}-\\d{2} "
    negate  = true
    what    = "previous"
  }
  tags = ["java"]
}

# Read CSV drops whole, then note them in a log instead of deleting them.
input "file" "drops" {
  path                    = ["/srv/drop/*.csv"]
  mode                    = "read"
  file_completed_action   = "log"
  file_completed_log_path = "/srv/drop/completed.log"
}

output "stdout" "console" {
  codec = "rubydebug"
}
