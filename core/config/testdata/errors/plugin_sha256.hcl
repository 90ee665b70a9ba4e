plugin "geoip" {
  path   = "plugins/gostash-geoip"
  sha256 = ""
}

plugin "dns" {
  path   = "plugins/gostash-dns"
  sha256 = "${env.GOSTASH_TEST_EMPTY}"
}

plugin "enrich" {
  path   = "plugins/gostash-enrich"
  sha256 = "zzf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
}

input "generator" "gen" {}
output "stdout" "out" {}
