inptu "generator" "gen" {}

outptu "stdout" "out" {}

workers = 4
