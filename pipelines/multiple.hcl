# Two pipelines in one process: `gostash -f pipelines/multiple.hcl`.
#
# Each pipeline "ID" block is a pipeline of its own, with its own workers,
# plugin processes, dead letter queue and saved positions: if "archive"'s
# output got stuck, "sample" would go on. Block names are per pipeline, so
# both can call their input "in". See docs/multiple-pipelines.md; the same
# pair in pipelines.yml form is in pipelines/settings/pipelines.yml.

pipeline "sample" {
  workers = 1

  input "generator" "in" {
    lines = [
      "GET /index.html 200 512",
      "GET /missing 404 128",
    ]
    count = 2
  }

  filter "expr" "status" {
    set = { "[http][status]" = "int(split(message, ' ')[2])" }
  }

  output "stdout" "out" {}
}

pipeline "archive" {
  workers    = 1
  batch_size = 100

  input "generator" "in" {
    message = "archived line"
    count   = 5
  }

  output "file" "out" {
    path = "/tmp/gostash-archive-%{+yyyy-MM-dd}.log"
  }
}
