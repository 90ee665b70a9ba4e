// Package kafka is the kafka input: it reads topics as a member of a
// consumer group, with Logstash's settings, and commits an offset only
// once every output has the records before it. Several gostash processes
// with one group_id share a topic's partitions: Kafka is the cluster.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/plugins/internal/kafka"
	"github.com/gostash/gostash/plugins/internal/lsonly"
	"github.com/gostash/gostash/sdk"
)

var removed = []kafka.Removed{
	{Name: "zk_connect", Instead: "gostash talks to the brokers: use bootstrap_servers = \"kafka1:9092,kafka2:9092\""},
	{Name: "topic_id", Instead: "use topics = [\"name\"] (topic_id is the kafka output's setting)"},
	{Name: "white_list", Instead: "use topics_pattern = \"regex\""},
	{Name: "black_list", Instead: "use topics_pattern with a regex that leaves those topics out"},
	{Name: "reset_beginning", Instead: "use auto_offset_reset = \"earliest\" (it applies when the group has no committed offset)"},
	{Name: "auto_commit_enable", Instead: "use enable_auto_commit"},
	{Name: "consumer_id", Instead: "use client_id (and group_instance_id for a static member)"},
	{Name: "fetch_message_max_bytes", Instead: "use max_partition_fetch_bytes"},
	{Name: "queue_size", Instead: "the pipeline's batch_size and backpressure bound what is read ahead; remove it"},
	{Name: "rebalance_max_retries", Instead: "rebalances are the group coordinator's job now; remove it"},
	{Name: "rebalance_backoff_ms", Instead: "rebalances are the group coordinator's job now; remove it"},
	{Name: "consumer_timeout_ms", Instead: "use poll_timeout_ms"},
	{Name: "consumer_restart_on_error", Instead: "gostash always reconnects with backoff; remove it"},
	{Name: "consumer_restart_sleep_ms", Instead: "use reconnect_backoff_ms"},
	{Name: "decoder_class", Instead: "use codec = \"plain\", \"json\", \"json_lines\" or \"line\""},
	{Name: "key_decoder_class", Instead: "keys are read as bytes into [@metadata][kafka][key] (decorate_events); remove it"},
}

// notImplemented are the current Logstash kafka input's settings gostash
// does not implement (besides the client's, kafka.NotImplemented).
var notImplemented = append([]lsonly.Setting{
	{Name: "check_crcs", Kind: lsonly.Ignored, Harmless: []string{"true"},
		Instead: "every record batch's CRC is always checked; remove it"},
	{Name: "auto_create_topics", Kind: lsonly.Ignored, Harmless: []string{"false"},
		Instead: "the input never creates a topic: create it with kafka-topics.sh (or let a producer do it); remove it"},
	{Name: "group_protocol", Kind: lsonly.Unsupported, Harmless: []string{"classic"},
		Instead: "only the classic group protocol is spoken (KIP-848's \"consumer\" protocol is not): remove it"},
	{Name: "retry_backoff_ms", Kind: lsonly.Ignored,
		Instead: "a failed fetch is retried after 2 s, and reconnect_backoff_ms sets the wait before connecting again; remove it"},
	{Name: "key_deserializer_class", Kind: lsonly.Unsupported,
		Harmless: []string{"org.apache.kafka.common.serialization.StringDeserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer"},
		Instead:  "keys are read as bytes (a UTF-8 string in [@metadata][kafka][key]); remove it"},
	{Name: "value_deserializer_class", Kind: lsonly.Unsupported,
		Harmless: []string{"org.apache.kafka.common.serialization.StringDeserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer"},
		Instead:  "values are read as bytes and decoded by the codec: use codec = \"plain\", \"json\", \"json_lines\" or \"line\""},
	{Name: "schema_registry_url", Kind: lsonly.Unsupported,
		Instead: "Avro with a schema registry is not supported: write the records as JSON and use codec = \"json\""},
}, schemaRegistry()...)

// schemaRegistry lists the schema_registry_* settings that go with
// schema_registry_url: set without it, they are an error too.
func schemaRegistry() []lsonly.Setting {
	var out []lsonly.Setting
	for _, n := range []string{"key", "secret", "proxy", "validation", "ssl_keystore_location", "ssl_keystore_password",
		"ssl_keystore_type", "ssl_truststore_location", "ssl_truststore_password", "ssl_truststore_type"} {
		out = append(out, lsonly.Setting{Name: "schema_registry_" + n, Kind: lsonly.Unsupported,
			Instead: "Avro with a schema registry is not supported: write the records as JSON and use codec = \"json\""})
	}
	return out
}

var spec = lsonly.Fields(kafka.RemovedFields(kafka.ClientFields(sdk.NewSpec("Reads records from Kafka topics as a member of a consumer group.").
	Field(sdk.StringList("topics").Default([]any{"logstash"}).
		Doc("The topics to read.")).
	Field(sdk.String("topics_pattern").
		Doc("A regular expression of topics to read instead of `topics`; topics created later that match are picked up within metadata_max_age_ms.")).
	Field(sdk.String("group_id").Default("logstash").
		Doc("The consumer group: processes with one group_id share the partitions, each record goes to one of them.")).
	Field(sdk.Int("consumer_threads").Default(1).
		Doc("How many group members this input runs (each with client id `<client_id>-<i>`); more than the topic's partitions leaves some idle.")).
	Field(sdk.String("auto_offset_reset").
		Doc("Where to start when the group has no committed offset for a partition: `earliest`, `latest` (Kafka's default), `by_duration:DURATION` (the first record written within that ISO 8601 duration before the start, such as `by_duration:PT1H` or `by_duration:P1DT12H`; the end when there is none; the start when it reaches before 1970), or `none` (stop with an error, also when a committed offset is out of range, deleted by retention say). With `cooperative_sticky`, by_duration and none act only on the partitions a member has when it joins (a warning says so).")).
	Field(sdk.String("codec").Default("plain").OneOf("plain", "json", "json_lines", "line").
		Doc("How a record's value becomes events: `plain` (the value is the message), `json` (a JSON object, or an array of them), `json_lines` (one JSON object a line), `line` (one event a line). A value that is not valid JSON becomes an event with it as message, tagged `_jsonparsefailure`.")).
	Field(sdk.String("decorate_events").Default("none").OneOf("none", "basic", "extended", "true", "false").
		Doc("Adds the record's coordinates to `[@metadata][kafka]`: `basic` sets topic, consumer_group, partition, offset, key and timestamp (epoch ms); `extended` also headers (UTF-8 values only). `true`/`false` are Logstash's deprecated spellings of basic/none.")).
	Field(sdk.Bool("enable_auto_commit").Default(true).
		Doc("Also commit on a timer, every auto_commit_interval_ms. Either way gostash commits an offset within 50 ms of every output having the records before it (sooner when many batches wait: see Delivery), and never one that is not delivered.")).
	Field(sdk.Int("auto_commit_interval_ms").Default(5000).
		Doc("The timer of enable_auto_commit.")).
	Field(sdk.Int("max_poll_records").Default(500).
		Doc("At most this many records a batch (also bounded by the pipeline's batch_size).")).
	Field(sdk.Int("poll_timeout_ms").Default(100).
		Doc("Accepted for Logstash configurations; a partial batch goes out after the pipeline's batch_delay.")).
	Field(sdk.Int("session_timeout_ms").Default(10000).
		Doc("A member not heard from for this long is out of the group and its partitions go to others.")).
	Field(sdk.Int("heartbeat_interval_ms").Default(3000).
		Doc("How often this member tells the coordinator it is alive; heartbeats go on while the pipeline is full, so a slow output never costs the group.")).
	Field(sdk.Int("max_poll_interval_ms").Default(300000).
		Doc("How long a rebalance may wait for this member to give up its partitions (it waits for their in-flight records to be delivered first).")).
	Field(sdk.String("partition_assignment_strategy").
		Doc("How partitions are shared among members: `range` (the default), `round_robin`, `sticky` or `cooperative_sticky` (a rebalance moves only the partitions that change owner). Kafka's class names, which Logstash also takes (`org.apache.kafka.clients.consumer.RoundRobinAssignor`, ...), mean the same; other classes are an error. As Kafka's setting, a comma-separated list offers several, in order of preference (eager ones only: not with `cooperative_sticky`).")).
	Field(sdk.String("group_instance_id").
		Doc("A static member id: a restart within session_timeout_ms keeps its partitions without a rebalance. With consumer_threads > 1, `-<i>` is added.")).
	Field(sdk.String("isolation_level").Default("read_uncommitted").OneOf("read_uncommitted", "read_committed").
		Doc("`read_committed` skips records of aborted transactions.")).
	Field(sdk.Int("fetch_min_bytes").Default(1).
		Doc("The least data a fetch waits for (up to fetch_max_wait_ms).")).
	Field(sdk.Int("fetch_max_bytes").Default(52428800).
		Doc("The most data one fetch returns; a member's partitions also share it to read ahead of the pipeline (see Delivery).")).
	Field(sdk.Int("max_partition_fetch_bytes").Default(1048576).
		Doc("The most data one fetch returns per partition; each partition reads ahead of the pipeline four times this.")).
	Field(sdk.Int("fetch_max_wait_ms").Default(500).
		Doc("How long a fetch waits for fetch_min_bytes.")).
	Field(sdk.String("client_rack").
		Doc("This client's rack, for brokers that serve fetches from the nearest replica.")).
	Field(sdk.Bool("exclude_internal_topics").Default(true).
		Doc("Leave Kafka's internal topics (`__consumer_offsets`, `__transaction_state`, `__share_group_state`) out of what `topics_pattern` matches; topics named in `topics` are read whatever this says."))),
	removed), unsupported)

var unsupported = slices.Concat(notImplemented, kafka.NotImplemented)

func init() {
	sdk.RegisterInput("kafka", spec, New).WithValidate(validate)
	// With no bound sarama decodes a snappy batch by growing its output
	// block by block: 3.3 times the records' bytes allocated, and a 1 MiB
	// batch took 3.9 ms to decode against 0.7 ms into a pooled buffer,
	// which is what sarama does under a bound (docs/benchmarks.md). The
	// bound itself only refuses a batch that would inflate past 1 GiB
	// (a compression bomb) instead of exhausting memory.
	sarama.MaxDecompressedBatchSize = maxInflatedBatch
}

// maxInflatedBatch is the most a compressed record batch may inflate to.
const maxInflatedBatch = 1 << 30

type settings struct {
	client             *kafka.Client
	topics             []string
	pattern            *regexp.Regexp
	excludeInternal    bool
	group              string
	threads            int
	codec              string
	decorate           int           // 0 none, 1 basic, 2 extended
	autoCommitEvery    time.Duration // enable_auto_commit's timer; 0 when off
	maxRecords         int
	fetchBytes         int // max_partition_fetch_bytes, the least a claim reads ahead
	fetchMaxBytes      int // fetch_max_bytes, what a member's claims read ahead together
	deprecatedDecorate bool
	reset              string        // auto_offset_reset: earliest, latest, none, or "" with by_duration
	byDuration         bool          // auto_offset_reset = "by_duration:..."
	resetBy            time.Duration // its duration
}

const (
	decorateNone = iota
	decorateBasic
	decorateExtended
)

func parse(c *sdk.Config) (*settings, sdk.Diagnostics) {
	cl, ds := kafka.ParseClient(c)
	ds = append(ds, kafka.CheckRemoved(c, removed)...)
	ds = append(ds, lsonly.Check(c, "kafka input", unsupported)...)
	s := &settings{client: cl, topics: c.StringList("topics"), group: c.String("group_id"), threads: c.Int("consumer_threads"),
		codec: c.String("codec"), maxRecords: c.Int("max_poll_records"), fetchBytes: c.Int("max_partition_fetch_bytes"),
		fetchMaxBytes: c.Int("fetch_max_bytes")}
	if c.Bool("enable_auto_commit") {
		s.autoCommitEvery = ms(c, "auto_commit_interval_ms")
	}
	if p := c.String("topics_pattern"); p != "" {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			ds.Errorf([]string{"topics_pattern"}, "topics_pattern is not a regular expression: %v", err)
		}
		s.pattern = re
		s.excludeInternal = c.Bool("exclude_internal_topics")
	} else if len(s.topics) == 0 {
		ds.Errorf([]string{"topics"}, "topics is empty: name a topic to read, or set topics_pattern")
	} else {
		for i, t := range s.topics {
			if strings.Contains(t, ",") {
				var names []string
				for _, n := range strings.Split(t, ",") {
					names = append(names, strconv.Quote(strings.TrimSpace(n)))
				}
				ds.Errorf([]string{"topics", fmt.Sprint(i)}, "topic %q: topics is a list: write topics = [%s]", t, strings.Join(names, ", "))
			} else if reason := kafka.InvalidTopic(t); reason != "" {
				ds.Errorf([]string{"topics", fmt.Sprint(i)}, "topic %q: %s, so it cannot exist", t, reason)
			}
		}
	}
	if s.group == "" {
		ds.Errorf([]string{"group_id"}, "group_id is empty: offsets are committed for a group; name one")
	}
	if s.threads < 1 || s.threads > 256 {
		ds.Errorf([]string{"consumer_threads"}, "consumer_threads must be from 1 to 256, not %d", s.threads)
	}
	if s.maxRecords < 1 {
		ds.Errorf([]string{"max_poll_records"}, "max_poll_records must be at least 1")
	}
	switch c.String("decorate_events") {
	case "basic":
		s.decorate = decorateBasic
	case "extended":
		s.decorate = decorateExtended
	case "true":
		s.decorate, s.deprecatedDecorate = decorateBasic, true
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"decorate_events"},
			Summary: "decorate_events = \"true\" is deprecated", Detail: "write decorate_events = \"basic\" (or \"extended\" for headers too)"})
	case "false":
		s.deprecatedDecorate = true
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"decorate_events"},
			Summary: "decorate_events = \"false\" is deprecated", Detail: "write decorate_events = \"none\""})
	}
	switch r := c.String("auto_offset_reset"); {
	case r == "", r == "earliest", r == "latest", r == "none":
		s.reset = r
	case strings.HasPrefix(r, "by_duration:"):
		d, err := parseISODuration(strings.TrimPrefix(r, "by_duration:"))
		if err != nil {
			ds.Errorf([]string{"auto_offset_reset"}, "auto_offset_reset %q: %v", r, err)
		}
		s.byDuration, s.resetBy = true, d
	default:
		ds.Errorf([]string{"auto_offset_reset"}, "auto_offset_reset %q is not one of earliest, latest, by_duration:DURATION (such as by_duration:PT1H), none", r)
	}
	a := c.String("partition_assignment_strategy")
	strategies, err := parseAssignors(a)
	if err != nil {
		ds.Errorf([]string{"partition_assignment_strategy"}, "%v", err)
	} else if r := c.String("auto_offset_reset"); slices.Contains(strategies, "cooperative_sticky") && (s.byDuration || s.reset == "none") {
		// Sarama starts the partitions a cooperative rebalance adds
		// without Setup, where these two are applied.
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"auto_offset_reset"},
			Summary: fmt.Sprintf("auto_offset_reset %q applies only to the partitions a member has when it joins with cooperative_sticky", r),
			Detail:  "a partition it gains in a later rebalance with no committed offset starts at its end, as with \"latest\"; use another partition_assignment_strategy to have it apply to every partition"})
	}
	for _, name := range []string{"session_timeout_ms", "heartbeat_interval_ms", "max_poll_interval_ms", "fetch_max_wait_ms", "auto_commit_interval_ms"} {
		if c.Int(name) < 1 {
			ds.Errorf([]string{name}, "%s must be more than 0", name)
		}
	}
	if c.Int("heartbeat_interval_ms") >= c.Int("session_timeout_ms") {
		ds.Errorf([]string{"heartbeat_interval_ms"}, "heartbeat_interval_ms (%d) must be below session_timeout_ms (%d), typically a third of it",
			c.Int("heartbeat_interval_ms"), c.Int("session_timeout_ms"))
	}
	for _, name := range []string{"fetch_min_bytes", "fetch_max_bytes", "max_partition_fetch_bytes"} {
		if c.Int(name) < 1 {
			ds.Errorf([]string{name}, "%s must be at least 1", name)
		}
	}
	return s, ds
}

// assignors maps partition_assignment_strategy's values, and the Kafka
// classes Logstash passes through as partition.assignment.strategy, to
// sarama's strategies.
var assignors = map[string]string{
	"": "range", "range": "range", "round_robin": "round_robin", "sticky": "sticky", "cooperative_sticky": "cooperative_sticky",
	"org.apache.kafka.clients.consumer.RangeAssignor":             "range",
	"org.apache.kafka.clients.consumer.RoundRobinAssignor":        "round_robin",
	"org.apache.kafka.clients.consumer.StickyAssignor":            "sticky",
	"org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative_sticky",
}

// parseAssignors reads partition_assignment_strategy: one name, or as
// Kafka's partition.assignment.strategy (which Logstash passes its value
// to) a comma-separated list in order of preference.
func parseAssignors(text string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(text, ",") {
		name := assignors[strings.TrimSpace(a)]
		if name == "" {
			return nil, fmt.Errorf("partition_assignment_strategy %q is not one of range, round_robin, sticky, cooperative_sticky (Java assignor classes other than Kafka's own cannot be loaded)", strings.TrimSpace(a))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) > 1 && slices.Contains(out, "cooperative_sticky") { // out holds no name twice
		// Kafka's two-step move to cooperative lists both; sarama's group
		// speaks one protocol.
		return nil, fmt.Errorf("partition_assignment_strategy %q mixes cooperative_sticky with eager strategies, which this client cannot run together: give cooperative_sticky alone, or only eager ones (range, round_robin, sticky)", text)
	}
	return out, nil
}

// isoDuration is java.time.Duration's text (PnDTnHnMn.nS), without the
// negative parts Kafka refuses.
var isoDuration = regexp.MustCompile(`^[pP](?:(\d+)[dD])?(?:[tT](?:(\d+)[hH])?(?:(\d+)[mM])?(?:(\d+)(?:[.,](\d{1,9}))?[sS])?)?$`)

// parseISODuration reads by_duration's duration as Kafka's client does.
func parseISODuration(text string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(text)
	if m == nil || strings.HasSuffix(strings.ToUpper(text), "T") || len(text) < 3 {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration such as PT1H, PT30M or P1DT12H (no negative parts)", text)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) || d+time.Duration(n)*unit < d {
			return 0, fmt.Errorf("%q is too long", text)
		}
		d += time.Duration(n) * unit
	}
	if m[5] != "" {
		ns, _ := strconv.Atoi((m[5] + "00000000")[:9])
		d += time.Duration(ns)
	}
	return d, nil
}

func validate(c *sdk.Config) sdk.Diagnostics {
	_, ds := parse(c)
	return ds
}

// consumerConfig makes member i's sarama configuration.
func consumerConfig(s *settings, c *sdk.Config, i int) (*sarama.Config, error) {
	cfg, err := s.client.Config()
	if err != nil {
		return nil, err
	}
	if s.threads > 1 || c.String("client_id") != "" {
		cfg.ClientID = fmt.Sprintf("%s-%d", cfg.ClientID, i)
	}
	g := &cfg.Consumer.Group
	g.Session.Timeout = ms(c, "session_timeout_ms")
	g.Heartbeat.Interval = ms(c, "heartbeat_interval_ms")
	g.Rebalance.Timeout = ms(c, "max_poll_interval_ms")
	// An offset out of range is reset to earliest or latest as Kafka's
	// consumer does; with "none" Setup has refused it (checkCommitted),
	// and sarama must not reset one that went out of range since.
	g.ResetInvalidOffsets = s.reset != "none"
	if id := c.String("group_instance_id"); id != "" {
		g.InstanceId = id
		if s.threads > 1 {
			g.InstanceId = fmt.Sprintf("%s-%d", id, i)
		}
	}
	strategies, _ := parseAssignors(c.String("partition_assignment_strategy")) // checked in parse
	g.Rebalance.GroupStrategies = nil
	for _, name := range strategies {
		switch name {
		case "round_robin":
			g.Rebalance.GroupStrategies = append(g.Rebalance.GroupStrategies, sarama.NewBalanceStrategyRoundRobin())
		case "sticky":
			g.Rebalance.GroupStrategies = append(g.Rebalance.GroupStrategies, sarama.NewBalanceStrategySticky())
		case "cooperative_sticky":
			g.Rebalance.GroupStrategies = append(g.Rebalance.GroupStrategies, sarama.NewBalanceStrategyCooperativeSticky())
		default:
			g.Rebalance.GroupStrategies = append(g.Rebalance.GroupStrategies, sarama.NewBalanceStrategyRange())
		}
	}
	co := &cfg.Consumer
	co.Return.Errors = true // sarama drops them otherwise: we log them
	// The handler commits, over a connection of its own (handler.commit):
	// sarama's offset manager is given nothing to commit.
	co.Offsets.AutoCommit.Enable = false
	// "none" is checked in Setup (sarama has no "fail" mode), and
	// by_duration's start is marked there.
	co.Offsets.Initial = sarama.OffsetNewest
	if s.reset == "earliest" {
		co.Offsets.Initial = sarama.OffsetOldest
	}
	if c.String("isolation_level") == "read_committed" {
		co.IsolationLevel = sarama.ReadCommitted
	}
	co.Fetch.Min = int32(c.Int("fetch_min_bytes"))
	co.Fetch.Default = int32(c.Int("max_partition_fetch_bytes"))
	co.Fetch.Max = int32(c.Int("fetch_max_bytes"))
	co.MaxWaitTime = ms(c, "fetch_max_wait_ms")
	cfg.RackID = c.String("client_rack")
	// A full pipeline holds ConsumeClaim in Publish; once its read-ahead
	// (readAheadBytes) and this channel are full, sarama stops
	// fetching that partition (heartbeats go on) instead of buffering.
	co.MaxProcessingTime = time.Second
	cfg.ChannelBufferSize = min(256, s.maxRecords)
	trackConns(cfg)
	return cfg, nil
}

func ms(c *sdk.Config, name string) time.Duration {
	return time.Duration(c.Int(name)) * time.Millisecond
}

// Input is the kafka input.
type Input struct {
	set   *settings
	cfgs  []*sarama.Config
	env   sdk.Env
	log   sdk.Logger
	batch int
	delay time.Duration

	lagMu sync.Mutex
	lag   map[string]map[int32]*partitionState // topic → partition → state
}

// New builds the input; it connects in Run.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Input, error) {
	s, ds := parse(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	if s.deprecatedDecorate {
		env.Logger.Warn("decorate_events = true/false is deprecated: use \"basic\", \"extended\" or \"none\"")
	}
	in := &Input{set: s, env: env, log: env.Logger, batch: env.BatchSize, delay: env.BatchDelay,
		lag: map[string]map[int32]*partitionState{}}
	in.batch = min(in.batch, s.maxRecords)
	for i := range s.threads {
		cfg, err := consumerConfig(s, c, i)
		if err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("kafka consumer settings: %w", err)
		}
		in.cfgs = append(in.cfgs, cfg)
	}
	return in, nil
}

// Run runs consumer_threads group members until ctx is cancelled; each
// delivers what it has in flight before it leaves the group.
func (in *Input) Run(ctx context.Context, p sdk.Publisher) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(in.cfgs))
	for i, cfg := range in.cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.member(ctx, p, i, cfg); err != nil {
				errs <- err
			}
		}()
	}
	// The periods are read here, not in the goroutines, which outlive Run:
	// a test that sets them restores them once Run has returned.
	go in.reportLag(ctx, lagEvery)
	go in.reportGauges(ctx, p, gaugeEvery)
	wg.Wait()
	close(errs)
	return <-errs
}

// warnConnect logs a failed connection, saying which settings to check
// when the brokers answered but refused us (credentials, TLS).
func (in *Input) warnConnect(brokers []string, err error, backoff time.Duration) {
	if hint := kafka.Hint(err); hint != "" {
		in.log.Warn("Kafka refused the connection; retrying", "bootstrap_servers", brokers, "error", err, "hint", hint, "retry_in", backoff.String())
		return
	}
	in.log.Warn("cannot reach Kafka; retrying", "bootstrap_servers", brokers, "error", err, "retry_in", backoff.String())
}

// member is one consumer of the group: it joins, consumes until ctx is
// done, and joins again after a rebalance or an error, with backoff.
func (in *Input) member(ctx context.Context, p sdk.Publisher, i int, cfg *sarama.Config) error {
	brokers := in.set.client.Brokers
	var group sarama.ConsumerGroup
	backoff := time.Second
	for group == nil {
		client, err := sarama.NewClient(brokers, cfg)
		if err == nil {
			group, err = sarama.NewConsumerGroupFromClient(in.set.group, client)
			if err != nil {
				client.Close()
			} else {
				defer client.Close()
			}
		}
		if err != nil {
			in.warnConnect(brokers, err, backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 30*time.Second)
		}
		if group != nil {
			defer group.Close()
			h := &handler{in: in, p: p, member: i, client: client, stopping: ctx.Done()}
			go in.logErrors(group, h)
			defer h.closeConn(nil)
			return in.consume(ctx, group, client, h)
		}
	}
	return nil
}

// consume calls Consume in a loop: each call is one session, which a
// rebalance (with an eager strategy) ends.
func (in *Input) consume(ctx context.Context, group sarama.ConsumerGroup, client sarama.Client, h *handler) error {
	backoff := time.Second
	for ctx.Err() == nil {
		topics, err := in.topicsToRead(client)
		if err == nil && len(topics) == 0 {
			err = fmt.Errorf("no topic matches topics_pattern %q yet", in.set.pattern)
		}
		if err != nil {
			in.log.Warn("cannot list the topics to read; retrying", "error", err, "retry_in", backoff.String())
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		sessCtx, cancel := context.WithCancel(ctx)
		if in.set.pattern != nil {
			go in.watchTopics(sessCtx, cancel, client, topics)
		}
		err = group.Consume(sessCtx, topics, h)
		cancel()
		if h.fatal != nil {
			return h.fatal
		}
		if err != nil && ctx.Err() == nil {
			if errors.Is(err, sarama.ErrClosedConsumerGroup) {
				return nil
			}
			if errors.Is(err, sarama.ErrOutOfBrokers) {
				// NewClient does not connect (Metadata.Full is off):
				// an unreachable cluster shows here, at the first request.
				in.warnConnect(in.set.client.Brokers, err, backoff)
			} else {
				in.log.Warn("consumer group session failed; joining again", "group_id", in.set.group, "error", err, "retry_in", backoff.String())
			}
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
	return nil
}

func (in *Input) topicsToRead(client sarama.Client) ([]string, error) {
	if in.set.pattern == nil {
		return in.set.topics, nil
	}
	if err := client.RefreshMetadata(); err != nil {
		return nil, err
	}
	all, err := client.Topics()
	if err != nil {
		return nil, err
	}
	return matchTopics(all, in.set.pattern, in.set.excludeInternal), nil
}

// internalTopics are the topics Kafka keeps for itself, which a consumer
// leaves out of a pattern with exclude.internal.topics (Kafka's default).
var internalTopics = map[string]bool{"__consumer_offsets": true, "__transaction_state": true, "__share_group_state": true}

// matchTopics returns, sorted, the topics of all that pattern matches.
func matchTopics(all []string, pattern *regexp.Regexp, excludeInternal bool) []string {
	var out []string
	for _, t := range all {
		if pattern.MatchString(t) && !(excludeInternal && internalTopics[t]) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// watchTopics ends the session when the topics matching topics_pattern
// change, so the next one reads the new set.
func (in *Input) watchTopics(ctx context.Context, cancel func(), client sarama.Client, topics []string) {
	every := client.Config().Metadata.RefreshFrequency
	if every <= 0 {
		every = 5 * time.Minute
	}
	for sleep(ctx, every) {
		now, err := in.topicsToRead(client)
		if err == nil && !slices.Equal(now, topics) {
			in.log.Info("topics matching topics_pattern changed; rejoining the group", "topics", now)
			cancel()
			return
		}
	}
}

func (in *Input) logErrors(group sarama.ConsumerGroup, h *handler) {
	for err := range group.Errors() {
		if h.cut.Load() {
			// A partition consumer that sarama had not yet told to close
			// when the stop closed the connections under it: expected.
			in.log.Debug("kafka consumer, stopping", "group_id", in.set.group, "error", err)
			continue
		}
		in.log.Warn("kafka consumer", "group_id", in.set.group, "error", err)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// readAheadBytes is how much each of a member's claims reads ahead of
// the pipeline (see readAhead): readAheadFetches × max_partition_fetch_bytes,
// while the member's claims together stay within fetch_max_bytes, and
// never less than max_partition_fetch_bytes.
func (s *settings) readAheadBytes(claims int) int64 {
	share := int64(s.fetchMaxBytes) / int64(max(claims, 1))
	return max(int64(s.fetchBytes), min(readAheadFetches*int64(s.fetchBytes), share))
}

// readAheadFetches is how many max_partition_fetch_bytes a claim reads
// ahead. Sarama decodes a whole fetch response before handing any of it
// on, and fetches again only once every partition has taken all of it: a
// megabyte of snappy-compressed log lines is several megabytes of
// records, and decoding a three-partition response took 40 ms, during
// which claims that had read ahead one megabyte (3,000 records) ran dry.
const readAheadFetches = 4
