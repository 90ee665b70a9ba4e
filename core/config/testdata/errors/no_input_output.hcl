# Only a filter: nothing reads events and nothing writes them.
filter "expr" "tag" {
  set = { a = "1" }
}
