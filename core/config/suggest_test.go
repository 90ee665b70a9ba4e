package config

import "testing"

// What a configtest error offers as "Did you mean": a near spelling or a
// prefix, never a guess that changes the meaning.
func TestSuggest(t *testing.T) {
	acks := []string{"0", "1", "all"}
	resets := []string{"earliest", "latest", "none"}
	codecs := []string{"plain", "json", "json_lines", "line"}
	for _, c := range []struct {
		given string
		cands []string
		want  string
	}{
		{"earlist", resets, "earliest"},
		{"LATEST", resets, "latest"},
		{"al", acks, "all"},
		{"-1", acks, ""}, // Kafka's "all", not a typo of "1"
		{"2", acks, ""},
		{"smallest", resets, ""},
		{"json_line", codecs, "json_lines"},
		{"jso", codecs, "json"},
		{"topicid", []string{"topic_id", "topics"}, "topic_id"},
	} {
		if got := suggest(c.given, c.cands); got != c.want {
			t.Errorf("suggest(%q, %v) = %q, want %q", c.given, c.cands, got, c.want)
		}
	}
}
