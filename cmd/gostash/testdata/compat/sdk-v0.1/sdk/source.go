package sdk

// Source coordinates say where an event came from: a Kafka record's topic,
// partition, offset, key, timestamp and headers; a file's path and byte
// offset; the host of stdin. An input attaches them only when
// Env.SourceCoordinates asks (the pipeline has a decorate_events filter,
// which writes them where the user wants them), so a pipeline that does
// not use them pays nothing.
const (
	// MetadataInput is the @metadata key they travel under:
	// [@metadata][_input].
	MetadataInput = "_input"
	// SourceType names the input type among them ("kafka", "file", ...);
	// decorate_events writes the rest to [@metadata][<type>] by default.
	SourceType = "type"
	// SourceHeaders holds a Kafka record's headers (a map of strings).
	SourceHeaders = "headers"
	// SourceSeq is an event's place (1, 2, ...) among the events one
	// source record gave when it gave several (a Kafka record holding a
	// JSON array): with the rest it names the event alone. The first
	// event, and the only one, has none. decorate_events does not copy it.
	SourceSeq = "seq"
)

// SetSource attaches an input's source coordinates to e; coords names
// them as Logstash does (for Kafka: topic, partition, offset, key,
// timestamp, consumer_group, headers).
func SetSource(e *Event, inputType string, coords map[string]any) {
	coords[SourceType] = inputType
	e.Metadata()[MetadataInput] = coords
}
