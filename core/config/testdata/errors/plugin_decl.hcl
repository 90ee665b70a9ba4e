plugin "geoip" {
  path   = "plugins/gostash-geoip"
  sha256 = "not-a-hash"
}

plugin "geoip" {
  path = "plugins/other"
}

plugin "dns" {
  sha = "ab"
}

input "generator" "gen" {}
output "stdout" "out" {}
