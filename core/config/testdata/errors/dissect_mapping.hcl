# The dissect filter's own checks: a mapping that does not parse and a
# conversion dissect does not have, each at the entry it is about.
input "stdin" "in" {}

filter "dissect" "access" {
  mapping = {
    message = "%{clientip} %{ident} [%{timestamp] %{rest}"
    rest    = "%{+&a} %{b}"
  }
  convert_datatype = {
    bytes = "integer"
  }
}

output "stdout" "out" {}
