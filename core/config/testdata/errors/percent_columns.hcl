# Escaping %{ must not move the columns of what follows it on the line.
input "generator" "gen" { lines = ["%{a}%{b}", "%{c}", { x = "%{d}" }, "%{e}"] }

filter "expr" "tag" {
  set = { "%{a}" = "%{b}", "[x]" = "%{c} %{d}", "%{a}" = "%{e}" }
  when = "%{x}"
}

output "stdout" "out" { codec = "%{codec}" }
