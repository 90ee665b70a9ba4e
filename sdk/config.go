package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Config holds a block's decoded settings, defaults applied.
type Config struct {
	values map[string]any
	// order holds the key order of object settings as written, when the
	// JSON carried one (ParseConfig).
	order map[string][]string
}

// NewConfig makes a Config from decoded JSON values, for tests and the
// runtime.
func NewConfig(values map[string]any) *Config {
	if values == nil {
		values = map[string]any{}
	}
	return &Config{values: values}
}

// ParseConfig decodes the JSON the core sends. The core writes object
// settings with their keys in the order the user wrote them, which
// StringListMap keeps.
func ParseConfig(data []byte) (*Config, error) {
	m := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("decode config: %w", err)
		}
	}
	c := NewConfig(m)
	c.order = objectKeyOrders(data)
	return c, nil
}

// objectKeyOrders reads the key order of each top-level object value of
// a JSON object; JSON that is not one gives nil.
func objectKeyOrders(data []byte) map[string][]string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil
	}
	var out map[string][]string
	for name, raw := range top {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			continue
		}
		var keys []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				break
			}
			keys = append(keys, k.(string))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				break
			}
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[name] = keys
	}
	return out
}

// Has reports whether the setting is set (or has a default).
func (c *Config) Has(name string) bool { v, ok := c.values[name]; return ok && v != nil }

// Raw returns a setting as decoded from JSON.
func (c *Config) Raw(name string) any { return c.values[name] }

// String returns a string setting.
func (c *Config) String(name string) string { s, _ := c.values[name].(string); return s }

// Int returns a number setting as an int.
func (c *Config) Int(name string) int {
	switch v := c.values[name].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case int64:
		return int(v)
	}
	return 0
}

// Float returns a number setting.
func (c *Config) Float(name string) float64 {
	switch v := c.values[name].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return 0
}

// Bool returns a bool setting.
func (c *Config) Bool(name string) bool { b, _ := c.values[name].(bool); return b }

// Duration returns a duration setting; the core has checked its syntax.
func (c *Config) Duration(name string) time.Duration {
	d, _ := time.ParseDuration(c.String(name))
	return d
}

// StringList returns a list-of-strings setting.
func (c *Config) StringList(name string) []string {
	switch v := c.values[name].(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	case string:
		return []string{v}
	}
	return nil
}

// StringMap returns a map-of-strings setting.
func (c *Config) StringMap(name string) map[string]string {
	m, _ := c.values[name].(map[string]any)
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// StringListMap returns a map whose values are lists of strings (a single
// string becomes a one-element list), and its keys in the order the user
// wrote them (in sorted order when that is not known).
func (c *Config) StringListMap(name string) ([]string, map[string][]string) {
	m, _ := c.values[name].(map[string]any)
	out := make(map[string][]string, len(m))
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, k)
		switch t := v.(type) {
		case string:
			out[k] = []string{t}
		case []any:
			for _, x := range t {
				if s, ok := x.(string); ok {
					out[k] = append(out[k], s)
				}
			}
		}
	}
	sort.Strings(keys)
	if order := c.order[name]; len(order) == len(keys) {
		// As written, when the core passed the order on.
		keys = append(keys[:0], order...)
	}
	return keys, out
}

// Decode decodes the settings into a struct with json tags.
func (c *Config) Decode(v any) error {
	data, err := json.Marshal(c.values)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
