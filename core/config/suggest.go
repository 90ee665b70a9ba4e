package config

import (
	"strings"

	"github.com/agext/levenshtein"
	"github.com/gostash/gostash/sdk"
)

// suggest returns the candidate the user most likely meant by given, or
// "": the closest one within two edits (ignoring case), fewer than either
// has letters (so acks = "-1", Kafka's spelling of "all", is not taken
// for a typo of "1"), else the shortest one that given begins (so "json"
// finds "json_lines").
func suggest(given string, candidates []string) string {
	g := strings.ToLower(given)
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(g, strings.ToLower(c), nil); d < bestDist && d < len(given) && d < len(c) {
			best, bestDist = c, d
		}
	}
	if best != "" || len(given) < 3 {
		return best
	}
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), g) && (best == "" || len(c) < len(best)) {
			best = c
		}
	}
	return best
}

// suggestSentence is " Did you mean "x"?" or otherwise.
func suggestSentence(given string, candidates []string, otherwise string) string {
	if s := suggest(given, candidates); s != "" {
		return " Did you mean " + quote(s) + "?"
	}
	return otherwise
}

func fieldNames(fields []sdk.Field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}
