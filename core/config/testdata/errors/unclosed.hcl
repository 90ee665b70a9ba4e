input "generator" "gen" {
  lines = ["a", "b"
}

output "stdout" "out" {
  codec = "line"
