// Package kafka is the kafka output: it writes each event as one record
// to a topic, with Logstash's settings, and acks an event to the core only
// once the broker has acknowledged it, so a crash can repeat records but
// never lose them. Records the broker will never take are dead-lettered
// with its reason instead of being dropped (as Logstash does) or retried
// for ever.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/plugins/internal/kafka"
	"github.com/gostash/gostash/plugins/internal/lsonly"
	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

var removed = []kafka.Removed{
	{Name: "broker_list", Instead: "use bootstrap_servers = \"host:9092,host2:9092\""},
	{Name: "topic_metadata_refresh_interval_ms", Instead: "use metadata_max_age_ms"},
	{Name: "request_required_acks", Instead: "use acks = \"0\", \"1\" or \"all\""},
	{Name: "serializer_class", Instead: "values are written by the codec; use codec = \"plain\", \"json\" or \"line\""},
	{Name: "producer_type", Instead: "gostash always sends asynchronously and acks after the broker does; remove it"},
	{Name: "timeout_ms", Instead: "use request_timeout_ms"},
	{Name: "block_on_buffer_full", Instead: "a full buffer always blocks the pipeline (backpressure); remove it"},
}

// notImplemented are the current Logstash kafka output's settings gostash
// does not implement (besides the client's, kafka.NotImplemented).
var notImplemented = []lsonly.Setting{
	{Name: "buffer_memory", Kind: lsonly.Ignored,
		Instead: "what waits to be sent is bounded by the pipeline's batches (and batch_size per partition); remove it"},
	{Name: "metadata_fetch_timeout_ms", Kind: lsonly.Ignored,
		Instead: "request_timeout_ms bounds a metadata request too; remove it"},
	{Name: "key_serializer", Kind: lsonly.Unsupported,
		Harmless: []string{"org.apache.kafka.common.serialization.StringSerializer"},
		Instead:  "the key is message_key's text as UTF-8 bytes; remove it"},
	{Name: "value_serializer", Kind: lsonly.Unsupported,
		Harmless: []string{"org.apache.kafka.common.serialization.StringSerializer"},
		Instead:  "the value is what the codec writes: use codec = \"plain\", \"json\" or \"line\""},
}

var unsupported = slices.Concat(notImplemented, kafka.NotImplemented)

var spec = lsonly.Fields(kafka.RemovedFields(kafka.ClientFields(sdk.NewSpec("Writes events to a Kafka topic, one record each.").
	Field(sdk.String("topic_id").Required().
		Doc("The topic, a sprintf template (\"logs-%{[service][name]}\"). An event whose topic still has an unresolved %{...} is dead-lettered.")).
	Field(sdk.String("message_key").
		Doc("The record key, a sprintf template; records with one key go to one partition. No key by default.")).
	Field(sdk.StringMap("message_headers").
		Doc("Record headers; each value is a sprintf template: `{ source = \"%{[host][name]}\" }`.")).
	Field(sdk.String("partitioner").Default("default").
		Doc("`default`: by the key's murmur2 hash, as Kafka's Java client does (so a key lands where a Java producer puts it); without a key, all records of a batch of events to one partition and the next batch to the next, as the Java client's sticky partitioner does; `round_robin`: every record to the next partition, whatever its key (as Logstash's); `uniform_sticky`: the same as default here. The Java class names Logstash also takes (`org.apache.kafka.clients.producer.RoundRobinPartitioner`, `...internals.DefaultPartitioner`, `...UniformStickyPartitioner`) mean the same; other classes are an error.")).
	Field(sdk.String("compression_type").Default("none").OneOf("none", "gzip", "snappy", "lz4", "zstd").
		Doc("How record batches are compressed; snappy is written in the framing Java clients read.")).
	Field(sdk.String("acks").Default("all").OneOf("0", "1", "all").
		Doc("How many replicas must have a record before it counts as written: `all` (the in-sync replicas; with idempotent delivery, so retries never duplicate), `1` (the leader) or `0` (none: acked once sent on the socket, so a broker crash can lose it). Logstash's default is \"1\"; gostash's is \"all\", as Kafka's own clients' since 3.0: an event acked to the source must survive the loss of a broker.")).
	Field(sdk.Int("linger_ms").Default(5).
		Doc("How long to wait for more records to fill a batch to a partition.")).
	Field(sdk.Int("batch_size").Default(16384).
		Doc("Bytes of records that make a batch to a partition full (sent without waiting for linger_ms).")).
	Field(sdk.Int("max_request_size").Default(1048576).
		Doc("The largest record, in bytes (encoded): a larger one is dead-lettered at once. The broker's own limit (message.max.bytes, by default about 1 MiB) also applies.")).
	Field(sdk.Int("retries").
		Doc("How often a failed send is retried before the event is dead-lettered. Unset (the default, as Logstash's): retried until it succeeds, with a growing backoff that blocks the pipeline (backpressure) and is logged once per attempt; a stop still ends it.")).
	Field(sdk.Int("retry_backoff_ms").Default(100).
		Doc("The wait between retries.")).
	Field(sdk.String("codec").Default("plain").OneOf("plain", "json", "json_lines", "line").
		Doc("How an event becomes the record's value: `plain` (`format`, or Logstash's \"<@timestamp> <host> <message>\"), `json` (the event as one JSON object, without @metadata), `json_lines` (as json, ending in a newline) or `line` (as plain, ending in a newline).")).
	Field(sdk.String("format").
		Doc("The plain and line codecs' sprintf template, such as \"%{message}\"."))),
	removed), unsupported)

func init() {
	sdk.RegisterOutput("kafka", spec, New).WithValidate(validate)
}

type settings struct {
	client   *kafka.Client
	topic    *sdk.Template
	key      *sdk.Template
	headers  []header
	format   *sdk.Template
	codec    string
	retries  int // -1: for ever
	maxBytes int
	// roundRobin: every record goes to the next partition, keyed or not
	// (Kafka's RoundRobinPartitioner), not all of a Write to one.
	roundRobin bool
}

type header struct {
	name  []byte
	value *sdk.Template
}

// partitioners maps the partitioner values, and the Kafka classes
// Logstash passes through as partitioner.class, to what gostash does.
var partitioners = map[string]string{
	"default": "default", "uniform_sticky": "default", "round_robin": "round_robin",
	"org.apache.kafka.clients.producer.internals.DefaultPartitioner": "default",
	"org.apache.kafka.clients.producer.UniformStickyPartitioner":     "default",
	"org.apache.kafka.clients.producer.RoundRobinPartitioner":        "round_robin",
}

// plainFormat is what Logstash's plain codec writes without a format:
// Event#to_s.
const plainFormat = "%{@timestamp} %{host} %{message}"

func parse(c *sdk.Config) (*settings, sdk.Diagnostics) {
	cl, ds := kafka.ParseClient(c)
	ds = append(ds, kafka.CheckRemoved(c, removed)...)
	ds = append(ds, lsonly.Check(c, "kafka output", unsupported)...)
	s := &settings{client: cl, codec: c.String("codec"), retries: -1, maxBytes: c.Int("max_request_size")}
	switch p := c.String("partitioner"); partitioners[p] {
	case "round_robin":
		s.roundRobin = true
	case "default":
	default:
		ds.Errorf([]string{"partitioner"}, "partitioner %q is not one of default, round_robin, uniform_sticky (Java partitioner classes other than Kafka's own cannot be loaded)", p)
	}
	tmpl := func(name, src string) *sdk.Template {
		t, err := sdk.ParseTemplate(src)
		if err != nil {
			ds.Errorf([]string{name}, "invalid %s: %v", name, err)
		}
		return t
	}
	s.topic = tmpl("topic_id", c.String("topic_id"))
	if c.String("topic_id") == "" {
		ds.Errorf([]string{"topic_id"}, "topic_id is empty: name the topic to write to")
	} else if s.topic != nil {
		// A name without references is checked whole, what fields bring
		// per event.
		sample := s.topic.RenderSample()
		reason := kafka.InvalidTopicBytes(sample)
		if s.topic.IsStatic() {
			reason = kafka.InvalidTopic(sample)
		}
		if reason != "" {
			ds.Errorf([]string{"topic_id"}, "topic_id %q: %s, so every event would be refused (its text and dates give %q)", c.String("topic_id"), reason, sample)
		}
	}
	if c.Has("message_key") {
		s.key = tmpl("message_key", c.String("message_key"))
	}
	for name, v := range c.StringMap("message_headers") {
		t, err := sdk.ParseTemplate(v)
		if err != nil {
			ds.Errorf([]string{"message_headers", name}, "invalid header template: %v", err)
			continue
		}
		s.headers = append(s.headers, header{name: []byte(name), value: t})
	}
	format := c.String("format")
	if format == "" {
		format = plainFormat
	} else if s.codec == "json" || s.codec == "json_lines" {
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"format"},
			Summary: "format is not used by the " + s.codec + " codec", Detail: `set codec = "plain" or "line" to write with it`})
	}
	s.format = tmpl("format", format)
	if c.Has("retries") {
		if s.retries = c.Int("retries"); s.retries < 0 {
			ds.Errorf([]string{"retries"}, "retries must be 0 or more, or unset to retry until it succeeds")
		}
	}
	for _, name := range []string{"linger_ms", "retry_backoff_ms"} {
		if c.Int(name) < 0 {
			ds.Errorf([]string{name}, "%s must be 0 or more", name)
		}
	}
	for _, name := range []string{"batch_size", "max_request_size"} {
		if c.Int(name) <= 0 {
			ds.Errorf([]string{name}, "%s must be more than 0", name)
		}
	}
	if s.maxBytes >= int(sarama.MaxRequestSize) {
		ds.Errorf([]string{"max_request_size"}, "max_request_size must be under %d bytes", sarama.MaxRequestSize)
	}
	return s, ds
}

func validate(c *sdk.Config) sdk.Diagnostics {
	_, ds := parse(c)
	return ds
}

// producerConfig makes the sarama configuration: the client's, and the
// producer settings producer.go reads from it (checked by sarama's
// Validate, which knows what idempotence needs).
func producerConfig(s *settings, c *sdk.Config) (*sarama.Config, error) {
	cfg, err := s.client.Config()
	if err != nil {
		return nil, err
	}
	p := &cfg.Producer
	p.MaxMessageBytes = s.maxBytes
	p.Flush.Frequency = time.Duration(c.Int("linger_ms")) * time.Millisecond
	p.Flush.Bytes = c.Int("batch_size")
	p.Retry.Backoff = time.Duration(c.Int("retry_backoff_ms")) * time.Millisecond
	p.Retry.Max = 3 // then the event is retried by the pipeline, for ever
	if s.retries >= 0 {
		p.Retry.Max = s.retries
	}
	switch c.String("acks") {
	case "0":
		p.RequiredAcks = sarama.NoResponse
	case "1":
		p.RequiredAcks = sarama.WaitForLocal
	default:
		p.RequiredAcks = sarama.WaitForAll
		// Idempotence makes the producer's own retries safe: the broker
		// drops a batch it has already written. It needs one request in
		// flight per broker and at least one retry.
		if p.Retry.Max > 0 {
			p.Idempotent = true
			cfg.Net.MaxOpenRequests = 1
		}
	}
	switch c.String("compression_type") {
	case "gzip":
		p.Compression = sarama.CompressionGZIP
	case "snappy":
		p.Compression = sarama.CompressionSnappy
	case "lz4":
		p.Compression = sarama.CompressionLZ4
	case "zstd":
		p.Compression = sarama.CompressionZSTD
	}
	return cfg, nil
}

// Output is the kafka output.
type Output struct {
	set    *settings
	cfg    *sarama.Config
	logger sdk.Logger

	mu       sync.Mutex // guards producer and client
	producer *producer
	client   sarama.Client
	pool     sync.Pool     // *write
	rr       atomic.Uint32 // the next partition for a Write's records without a key
	// rrTopics holds round_robin's counter per topic (*atomic.Uint32), as
	// Kafka's RoundRobinPartitioner, apart from rr: shared, a Write of one
	// record moved it by two (an even number of partitions saw every
	// other one only), and two interleaved topics took turns.
	rrTopics sync.Map

	unknownMu sync.Mutex
	unknown   map[string]time.Time // topic -> when the cluster first did not know it
}

// unknownTopicGrace is how long a topic the cluster does not know is
// waited for before its records are dead-lettered: one being created
// (auto-creation, or an operator's kafka-topics run) is unknown for a
// moment, longer on a busy cluster. The Java producer's max.block.ms
// (60 s) bounds the same wait.
var unknownTopicGrace = 60 * time.Second

// topicUnknown decides about a topic the cluster said it does not know:
// within the grace it is an error the core retries; past it, the
// broker's permanent answer, with how long it was waited for.
func (o *Output) topicUnknown(topic string, err error) error {
	o.unknownMu.Lock()
	defer o.unknownMu.Unlock()
	if o.unknown == nil {
		o.unknown = map[string]time.Time{}
	}
	first, seen := o.unknown[topic]
	if !seen {
		first = time.Now()
		o.unknown[topic] = first
	}
	if waited := time.Since(first); waited >= unknownTopicGrace {
		return fmt.Errorf("topic %q does not exist (unknown for %v; create it, or turn on auto.create.topics.enable): %w", topic, waited.Round(time.Second), err)
	}
	// %v, not %w: not the permanent answer yet.
	return fmt.Errorf("topic %q is not known to the cluster yet (being created?); retried for up to %v: %v", topic, unknownTopicGrace, err)
}

// topicKnown forgets that topic was unknown.
func (o *Output) topicKnown(topic string) {
	o.unknownMu.Lock()
	if _, ok := o.unknown[topic]; ok {
		delete(o.unknown, topic)
	}
	o.unknownMu.Unlock()
}

// New builds the output; it connects on the first write, so that a
// cluster that is down at start is retried like one that goes down later.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Output, error) {
	s, ds := parse(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	cfg, err := producerConfig(s, c)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka producer settings: %w", err)
	}
	return &Output{set: s, cfg: cfg, logger: env.Logger}, nil
}

// write is one Write call's records in flight.
type write struct {
	arena []byte // the records' values, keys and headers
	enc   codecs.JSONEncoder
	recs  []rec
	hdrs  []sarama.RecordHeader // the records' headers, in order
	hptrs []*sarama.RecordHeader
	sent  []*rec // the records to send, by partition

	// The producer counts outcomes down and wakes the Write call once,
	// when the last one is in.
	mu      sync.Mutex
	pending int  // records sent whose outcome has not come
	sealed  bool // nothing more is sent before await
	failed  []result
	done    chan struct{} // closed when sealed and pending is 0
}

type result struct {
	index int
	err   error
}

// connect returns the producer, creating it when there is none yet.
func (o *Output) connect() (*producer, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.producer != nil {
		return o.producer, nil
	}
	// Ask for metadata first: with partial metadata (Metadata.Full off) the
	// client connects to nothing at creation, and a refused login or
	// certificate would only show in the first produce request. A
	// metadata request fails in a second and says why.
	client, err := sarama.NewClient(o.set.client.Brokers, o.cfg)
	if err == nil {
		if err = client.RefreshMetadata(); err != nil {
			client.Close()
		}
	}
	var p *producer
	if err == nil {
		if p, err = newProducer(client, o.cfg, o.logger); err != nil {
			client.Close()
		}
	}
	if err != nil {
		hint := kafka.Hint(err)
		if hint == "" {
			hint = "check bootstrap_servers and that the brokers run"
		}
		return nil, fmt.Errorf("cannot connect to Kafka at %v (%s): %w", o.set.client.Brokers, hint, err)
	}
	o.producer, o.client = p, client
	return p, nil
}

// Write sends every event and waits for the broker's answer to each. It
// answers per event: a record the broker will never take is rejected
// (dead-lettered) alone; one that failed for a reason that may pass (a
// leader election, a broker down) is retried alone.
func (o *Output) Write(ctx context.Context, events []*sdk.Event) error {
	p, err := o.connect()
	if err != nil {
		o.logger.Warn("kafka is unreachable; the batch waits and is retried", "error", err)
		return err
	}
	w, _ := o.pool.Get().(*write)
	if w == nil {
		w = &write{}
	}
	// A stop may leave records in the producer: their outcomes still come
	// to w, so w is not reused then (the garbage collector takes it).
	abandoned := false
	defer func() {
		if !abandoned {
			o.pool.Put(w)
		}
	}()
	w.arena, w.hdrs, w.sent = w.arena[:0], w.hdrs[:0], w.sent[:0]
	if cap(w.recs) < len(events) {
		w.recs = make([]rec, len(events))
	}
	w.recs = w.recs[:len(events)]

	var werr sdk.WriteError
	w.reset()
	for i, e := range events {
		if reason := o.record(w, i, e); reason != "" {
			werr.RejectItem(i, reason)
			continue
		}
		w.sent = append(w.sent, &w.recs[i])
	}
	// The headers' pointers, now that w.hdrs no longer moves.
	w.hptrs = w.hptrs[:0]
	for i := range w.hdrs {
		w.hptrs = append(w.hptrs, &w.hdrs[i])
	}
	var pre []result // records without a partition
	if len(o.set.headers) > 0 {
		n := len(o.set.headers)
		for j, r := range w.sent {
			r.r.Headers = w.hptrs[j*n : (j+1)*n : (j+1)*n]
		}
	}
	w.sent, pre = o.partition(w.sent, pre)
	w.mu.Lock()
	w.pending += len(w.sent)
	w.mu.Unlock()
	p.add(w.sent)
	failed, ok := w.await(ctx)
	if !ok {
		// A stop while the broker is away must not wait for it: nothing
		// is acked.
		abandoned = true
		return ctx.Err()
	}
	failed = append(slices.Clone(failed), pre...)
	if len(failed) > 0 {
		if failed, ok = o.retryAlone(ctx, p, w, failed); !ok {
			abandoned = true
			return ctx.Err()
		}
	}
	o.sort(failed, &werr)
	if len(werr.Items) == 0 {
		return nil
	}
	return &werr
}

// partition gives each record its partition and sorts them by it; a
// record whose topic has no partitions (unknown with auto-creation off,
// no metadata) goes to failed instead.
// roundRobinCounter is round_robin's counter for topic; a counter is
// made only for a topic seen first (LoadOrStore would make one each time).
func (o *Output) roundRobinCounter(topic string) *atomic.Uint32 {
	if c, ok := o.rrTopics.Load(topic); ok {
		return c.(*atomic.Uint32)
	}
	c, _ := o.rrTopics.LoadOrStore(topic, new(atomic.Uint32))
	return c.(*atomic.Uint32)
}

func (o *Output) partition(recs []*rec, failed []result) ([]*rec, []result) {
	var topic string
	var all, writable []int32
	var err error
	looked := false
	sticky := o.rr.Add(1) // a Write's keyless records go to one partition, as Kafka's sticky partitioner does
	roundRobin := o.set.roundRobin
	var next *atomic.Uint32 // round_robin's counter for topic
	kept := recs[:0]
	for _, r := range recs {
		if !looked || r.topic != topic {
			topic, looked = r.topic, true
			if roundRobin {
				next = o.roundRobinCounter(topic)
			}
			if all, err = o.client.Partitions(topic); err == nil {
				o.topicKnown(topic)
				if writable, _ = o.client.WritablePartitions(topic); len(writable) == 0 {
					writable = all // no leaders now: wait for one
				}
			} else if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				err = o.topicUnknown(topic, err)
			}
		}
		if err != nil {
			failed = append(failed, result{index: r.index, err: err})
			continue
		}
		switch {
		case roundRobin: // keys too, as Kafka's RoundRobinPartitioner
			r.part = writable[next.Add(1)%uint32(len(writable))]
		case r.r.Key != nil:
			r.part = all[int32(murmur2(r.r.Key)&0x7fffffff)%int32(len(all))]
		default:
			r.part = writable[sticky%uint32(len(writable))]
		}
		kept = append(kept, r)
	}
	slices.SortStableFunc(kept, func(a, b *rec) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return int(a.part) - int(b.part)
	})
	return kept, failed
}

// murmur2 is Kafka's Java client's key hash (Utils.murmur2), which its
// default partitioner and sarama's NewMurmur2Partitioner use.
func murmur2(data []byte) uint32 {
	const seed, m, r = uint32(0x9747b28c), uint32(0x5bd1e995), 24
	length := len(data)
	h := seed ^ uint32(length)
	n := length / 4
	for i := range n {
		k := uint32(data[i*4]) | uint32(data[i*4+1])<<8 | uint32(data[i*4+2])<<16 | uint32(data[i*4+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n*4:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// reset readies w for a new round of records.
func (w *write) reset() {
	w.mu.Lock()
	w.pending, w.sealed, w.failed, w.done = 0, false, nil, make(chan struct{})
	w.mu.Unlock()
}

// outcome records one record's outcome (called by the producer).
func (w *write) outcome(index int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.failed = append(w.failed, result{index: index, err: err})
	}
	if w.pending--; w.pending == 0 && w.sealed {
		close(w.done)
	}
}

// await waits for the outcomes of every record sent since reset and
// returns the failed ones; false when ctx ended the wait first.
func (w *write) await(ctx context.Context) ([]result, bool) {
	w.mu.Lock()
	w.sealed = true
	if w.pending == 0 {
		close(w.done)
	}
	done := w.done
	w.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed, true
}

// retryAlone sends again, each in a batch of its own, records the broker
// refused as too large beside others: it judges a whole batch against
// the topic's max.message.bytes, and a batch may hold records of other
// Writes too, so a small record refused beside a large one is taken when
// it comes alone.
func (o *Output) retryAlone(ctx context.Context, p *producer, w *write, failed []result) ([]result, bool) {
	out := failed[:0]
	var again []*rec
	for _, r := range failed {
		if rc := &w.recs[r.index]; errors.Is(r.err, sarama.ErrMessageSizeTooLarge) && !rc.alone {
			rc.alone = true
			again = append(again, rc)
			continue
		}
		out = append(out, r)
	}
	if len(again) == 0 {
		return failed, true
	}
	w.reset()
	w.mu.Lock()
	w.pending += len(again)
	w.mu.Unlock()
	p.add(again)
	more, ok := w.await(ctx)
	if !ok {
		return nil, false
	}
	return append(out, more...), true
}

// sort turns failed records into per-event outcomes.
func (o *Output) sort(failed []result, werr *sdk.WriteError) {
	var retried int
	var firstRetry error
	for _, r := range failed {
		if permanent(r.err) || o.set.retries >= 0 {
			reason := "kafka: " + r.err.Error()
			if !permanent(r.err) {
				reason = fmt.Sprintf("kafka: gave up after %d retries: %v", o.set.retries, r.err)
			}
			werr.RejectItem(r.index, reason)
			continue
		}
		retried++
		if firstRetry == nil {
			firstRetry = r.err
		}
		werr.Retry(r.index, 0, "kafka: "+r.err.Error())
	}
	if retried > 0 {
		// The core logs retries (at most once a second, with the reason).
		o.logger.Debug("kafka did not take records; they are retried", "records", retried, "error", firstRetry)
	}
}

// record fills w's i-th record from e; a non-empty reason says why e
// cannot be sent.
func (o *Output) record(w *write, i int, e *sdk.Event) string {
	s := o.set
	topic, ok := s.topic.RenderStrict(e)
	if !ok {
		return fmt.Sprintf("topic_id %q gave %q for this event: a field it names is missing", s.topic.String(), topic)
	}
	if reason := kafka.InvalidTopic(topic); reason != "" {
		return fmt.Sprintf("topic_id %q gave %q for this event: %s", s.topic.String(), topic, reason)
	}
	r := &w.recs[i]
	*r = rec{topic: topic, w: w, index: i}
	if s.key != nil {
		start := len(w.arena)
		w.arena = s.key.AppendRender(w.arena, e)
		r.r.Key = w.arena[start:len(w.arena):len(w.arena)]
	}
	hstart := len(w.hdrs)
	for _, h := range s.headers {
		start := len(w.arena)
		w.arena = h.value.AppendRender(w.arena, e)
		w.hdrs = append(w.hdrs, sarama.RecordHeader{Key: h.name, Value: w.arena[start:len(w.arena):len(w.arena)]})
	}
	start := len(w.arena)
	switch s.codec {
	case "json":
		w.arena = w.enc.AppendEvent(w.arena, e)
	case "json_lines":
		w.arena = append(w.enc.AppendEvent(w.arena, e), '\n')
	case "line":
		w.arena = append(s.format.AppendRender(w.arena, e), '\n')
	default:
		w.arena = s.format.AppendRender(w.arena, e)
	}
	r.r.Value = w.arena[start:len(w.arena):len(w.arena)]
	size := len(r.r.Value) + len(r.r.Key)
	if size > s.maxBytes {
		w.hdrs = w.hdrs[:hstart]
		return "kafka: record of " + strconv.Itoa(size) + " bytes is over max_request_size (" + strconv.Itoa(s.maxBytes) + ")"
	}
	r.size = size + recordOverhead
	for _, h := range w.hdrs[hstart:] {
		r.size += len(h.Key) + len(h.Value) + 2
	}
	return ""
}

// recordOverhead is about what a record's framing adds to its key and
// value in a batch (length, attributes, deltas, key and value lengths).
const recordOverhead = 12

// permanent reports whether the broker will never take the record: retrying
// it would stall the pipeline for ever.
func permanent(err error) bool {
	var kerr sarama.KError
	if errors.As(err, &kerr) {
		switch kerr {
		case sarama.ErrMessageSizeTooLarge, sarama.ErrInvalidMessage, sarama.ErrInvalidMessageSize,
			sarama.ErrInvalidTopic, sarama.ErrTopicAuthorizationFailed, sarama.ErrClusterAuthorizationFailed,
			sarama.ErrInvalidRecord, sarama.ErrUnknownTopicOrPartition,
			sarama.ErrInvalidRequiredAcks, sarama.ErrUnsupportedForMessageFormat, sarama.ErrPolicyViolation:
			return true
		}
	}
	var cerr sarama.ConfigurationError
	return errors.As(err, &cerr)
}

// Close sends what is queued and waits for the broker's answers (or
// ctx).
func (o *Output) Close(ctx context.Context) error {
	o.mu.Lock()
	p, client := o.producer, o.client
	o.producer, o.client = nil, nil
	o.mu.Unlock()
	if p == nil {
		return nil
	}
	p.close(ctx)
	client.Close()
	return nil
}
