# Read /var/log/messages, split each syslog line into its parts with
# Logstash's SYSLOGLINE pattern, and print what sshd logs.
#
#   gostash -f pipelines/syslog.hcl

input "file" "messages" {
  path = ["/var/log/messages", "/var/log/syslog"]
  type = "system-message"
}

filter "grok" "syslog" {
  match = { message = "%{SYSLOGLINE}" }
}

output "stdout" "sshd" {
  when  = "process?.name == 'sshd'"
  codec = "rubydebug"
}
