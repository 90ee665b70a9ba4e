package sdk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RubyString is the text of a field value as Logstash's Ruby filters see it
// (Ruby's to_s), which grok and dissect match against: a string as it is,
// nil as "", a whole float with ".0", a time as @timestamp prints, and a
// map or list as JSON.
func RubyString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		s := strconv.FormatFloat(t, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(t)
	case time.Time:
		return FormatTimestamp(t.UnixNano())
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
