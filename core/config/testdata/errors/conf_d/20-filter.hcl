filter "expr" "tag" {
  drop = "false"
}
