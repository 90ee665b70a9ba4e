input "generator" "gen" {
  add_field = {
    "[a]["          = "x"
    "[host][%{h}]"  = "%{[a][}"
  }
  tags = ["%{not-a-template"]
}

filter "expr" "x" {
  add_field    = { "ok" = "%{+yyyy.q}", "[%{[a][b]}][c]" = "fine", "l" = ["fine", "%{}"] }
  add_tag      = ["good-%{type}", "%{}"]
  remove_field = ["[a]b", "[%{x}]", "[x][%{y}"]
  remove_tag   = "%{{cc}}"
}

filter "grok" "g" {
  match     = { "message" = "%{WORD:w}" }
  add_field = { "${env.GOSTASH_TEST_SECRET}[" = "v" }
}

# Logstash's add_field => ["k", "v"] pairs: the error shows the map to write.
filter "mutate" "pairs" {
  add_field = ["[geo][city]", "Lyon", "source", "%{host}"]
}

output "stdout" "out" {}
