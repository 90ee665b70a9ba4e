# A date format with a letter Joda does not know: the T of ISO 8601 must
# be quoted ('T'), or the format written as ISO8601.
input "stdin" "in" {}

filter "date" "when" {
  match    = ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z", "yyyy-MM-ddTHH:mm:ss", "ISO8601"]
  timezone = "Europe/Berlin"
}

output "stdout" "out" {}
