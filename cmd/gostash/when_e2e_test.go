package main

import (
	"strings"
	"testing"
)

// Events an output's `when` leaves out, because it is false or because it
// fails on them, are not counted as written; a failing `when` is logged.
func TestOutputWhenLeftOutIsNotCountedOut(t *testing.T) {
	_, stderr, code := gostash(t, "", "-e", `
input "generator" "g" { count = 10 }
output "null" "never" { when = "false" }
output "null" "fails" { when = "message + 1 > 0" }
output "null" "all" {}`)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "events_in=10 events_out=10 ") {
		t.Fatalf("want 10 events in and 10 out (only the output without when wrote them):\n%s", stderr)
	}
	if !strings.Contains(stderr, "when failed on an event") {
		t.Fatalf("the failing when is not logged:\n%s", stderr)
	}
}
