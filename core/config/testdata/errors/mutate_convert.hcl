# mutate's own check: an unknown convert type is reported on its value,
# as Logstash's register does ("Invalid conversion type").
input "generator" "gen" {}

filter "mutate" "types" {
  convert = {
    status  = "integer"
    "[a][b]" = "int"
  }
  gsub = ["message", "(?<=x)y", "z"]
}

output "stdout" "out" {}
