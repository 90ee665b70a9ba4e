# Logstash's nested form needs to become labels.
input {
  stdin {}
}

output "stdout" {
}
