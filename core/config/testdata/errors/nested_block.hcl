input "generator" "gen" {}

filter "expr" "tag" {
  set {
    a = "1"
  }
}

filter "grok" "parse" {
  match = { message = "%{SYSLOGLINE}" }
  patterns {
    X = "y"
  }
}

output "stdout" "out" {
  codec "json_lines" {
    charset = "UTF-8"
  }
}
