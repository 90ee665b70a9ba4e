# dissect: syslog and Apache access lines split by their delimiters, no
# regular expressions.
#
#   gostash -f plugins/filters/dissect/example.hcl

input "generator" "lines" {
  lines = [
    "Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]",
    "Mar  6 00:01:25 evita CRON[42]: (root) CMD (run-parts /etc/cron.hourly)",
    "no delimiters here",
  ]
  count = 3
}

filter "dissect" "syslog" {
  mapping = {
    # %{+ts} appends to ts with the delimiter before it; -> after ts skips
    # the padding space of a one-digit day; %{?x} would skip a value.
    message = "%{ts->} %{+ts} %{+ts} %{logsource} %{program}[%{pid}]: %{msg}"
  }
  convert_datatype = {
    pid = "int"
  }
  tag_on_failure = ["_dissectfailure"]
  add_tag        = ["dissected"]
}

# A value named by another field's value: %{?k} is not stored,
# %{&verb} stores the value under what verb held: connect = "camomile...".
filter "dissect" "pair" {
  when    = "msg startsWith 'connect'"
  mapping = {
    msg = "%{?verb} from %{&verb}"
  }
}

output "stdout" "console" {
  codec = "rubydebug"
}
