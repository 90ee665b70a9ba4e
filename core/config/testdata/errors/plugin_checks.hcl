# Values the fake plugin check rejects (BAD) or warns about (WARN), at
# every depth of a setting: the errors land on the element.
input "generator" "gen" {
  lines = ["ok", "a BAD line", "ok"]
  tags  = "WARN"
}

filter "expr" "tag" {
  set  = { "[a]" = "fine", "[b]" = "%{x} BAD" }
  drop = "BAD"
}

filter "grok" "parse" {
  match = {
    message = ["%{IP:client}", "%{BAD}"]
  }
}

output "stdout" "out" {}
