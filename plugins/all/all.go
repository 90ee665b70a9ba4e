// Package all links every built-in plugin into a binary: import it for
// its side effects. Only cmd/ does; the core never imports a plugin.
package all

import (
	_ "github.com/gostash/gostash/plugins/filters/date"            // filter "date"
	_ "github.com/gostash/gostash/plugins/filters/decorate_events" // filter "decorate_events"
	_ "github.com/gostash/gostash/plugins/filters/dissect"         // filter "dissect"
	_ "github.com/gostash/gostash/plugins/filters/expr"            // filter "expr"
	_ "github.com/gostash/gostash/plugins/filters/grok"            // filter "grok"
	_ "github.com/gostash/gostash/plugins/filters/json"            // filter "json"
	_ "github.com/gostash/gostash/plugins/filters/kv"              // filter "kv"
	_ "github.com/gostash/gostash/plugins/filters/mutate"          // filter "mutate"
	_ "github.com/gostash/gostash/plugins/inputs/file"             // input "file"
	_ "github.com/gostash/gostash/plugins/inputs/generator"        // input "generator"
	_ "github.com/gostash/gostash/plugins/inputs/kafka"            // input "kafka"
	_ "github.com/gostash/gostash/plugins/inputs/stdin"            // input "stdin"
	_ "github.com/gostash/gostash/plugins/outputs/elasticsearch"   // output "elasticsearch"
	_ "github.com/gostash/gostash/plugins/outputs/file"            // output "file"
	_ "github.com/gostash/gostash/plugins/outputs/kafka"           // output "kafka"
	_ "github.com/gostash/gostash/plugins/outputs/null"            // output "null"
	_ "github.com/gostash/gostash/plugins/outputs/stdout"          // output "stdout"

	// Apart, so that its long path does not realign the comments above.

	_ "github.com/gostash/gostash/plugins/inputs/dead_letter_queue" // input "dead_letter_queue"
)
