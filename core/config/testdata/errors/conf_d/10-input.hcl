input "generator" "gen" {
  count = -1.5
}
