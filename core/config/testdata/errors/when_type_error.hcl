# A `when` that cannot work on any event: expr-lang type-checks it when
# the pipeline loads (the plugin's validation, for --configtest), so the
# error is reported here, on the expression, not per event. A constant
# field reference in has()/get() is checked too.
input "stdin" "in" {}

filter "json" "parse" {
  source = "message"
  when   = "message startsWith '{' && len(message) + '1' > 2"
}

filter "json" "nested" {
  source = "[payload]"
  when   = "has('[payload][raw')"
}

output "stdout" "out" {}
