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

output "stdout" "out" {}
