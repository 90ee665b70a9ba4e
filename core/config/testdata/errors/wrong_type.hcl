input "generator" "gen" {
  count   = "ten"
  lines   = ["first", { text = "second" }, "third"]
  message = ["a", "list"]
  rate    = true
}

filter "expr" "tag" {
  set    = ["a", "b"]
  remove = { a = "b" }
}

filter "grok" "parse" {
  match          = { message = ["%{IP:client}", { x = 1 }], host = { y = 2 } }
  break_on_match = "sometimes"
}

output "stdout" "out" {
  codec = 3.5
}

filter "expr" "nulls" {
  add_field = { note = null }
}
