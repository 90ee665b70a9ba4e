# Names are unique across the files of a directory.
filter "expr" "tag" {}

output "stdout" "out" {
  codec = "lines"
}
