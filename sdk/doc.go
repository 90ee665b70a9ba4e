// Package sdk is what a gostash plugin is written against: events, the
// Input, Filter and Output contracts, the settings schema and Serve. A
// plugin is a Go program that registers its components in init and
// serves them from main; gostash starts it as a process of its own and
// talks to it over protocol v1 (sdk/proto/v1). The built-in plugins are
// written the same way.
//
//	func init() {
//		sdk.RegisterFilter("shout", sdk.NewSpec("Upper-cases a field.").
//			Field(sdk.String("field").Default("message").Doc("The field.")),
//			newShout)
//	}
//
//	func main() { sdk.Serve() }
//
// # Components
//
// An Input runs until its context ends and hands batches to a Publisher,
// which blocks while the pipeline is full and acknowledges a batch once
// every output took it. A Filter's Apply changes one event at a time and
// says what it did (Matched, Failed, Dropped). An Output's Write takes a
// batch and reports per-event retries and rejects with a WriteError.
// Events belong to the pipeline: keep e.Clone() of one needed later.
//
// # Settings
//
// A component's Spec lists its settings (String, Int, Duration... with
// Default, Required, Doc, Example); gostash checks a pipeline's blocks
// against it, and documents the component from it. The constructor gets
// the block as a Config; a ValidateFunc adds the checks only the plugin
// can make, as Diagnostics, for --configtest. The common options
// (CommonFields: a filter's when, add_field, add_tag, remove_field and
// remove_tag, an input's add_field, tags and type, an output's when) are
// the SDK's: a component neither declares nor applies them.
//
// # Events
//
// An Event holds fields, @timestamp, tags and @metadata. FieldRef reads
// and writes a Logstash field reference ([a][b]), Template renders a
// sprintf string (%{[a][b]}), and Expression and Condition evaluate the
// pipeline's expression language.
//
// # Testing
//
// sdk/sdktest runs components in process: feed events, assert outputs,
// acks, retries, dead letters and diagnostics in a plain go test.
//
// The engine's side of the protocol (the batch codec, filter chains, the
// handshake) is in sdk/host, which plugins do not import.
package sdk
