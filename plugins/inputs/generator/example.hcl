# Three access-log lines, cycled until 1000 events are out, at most 200 a
# second: a steady, known stream for trying filters and outputs.
input "generator" "sample" {
  lines = [
    "GET /index.html 200 512",
    "GET /missing 404 128",
    "POST /login 500 64",
  ]
  count = 1000
  rate  = 200
}

# As fast as the pipeline takes them, without end: a benchmark source.
input "generator" "load" {
  message = "a benchmark line"
}

output "stdout" "console" {
  codec = "dots"
}
