package kafka

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

func TestValidate(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindInput, "kafka")
	for _, c := range []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"defaults", map[string]any{}, ""},
		{"everything", map[string]any{"topics": []any{"a", "b"}, "group_id": "g", "consumer_threads": 3, "auto_offset_reset": "earliest",
			"codec": "json", "decorate_events": "extended", "partition_assignment_strategy": "cooperative_sticky", "isolation_level": "read_committed"}, ""},
		{"zk_connect", map[string]any{"zk_connect": "zk:2181"}, "use bootstrap_servers"},
		{"topic_id on the input", map[string]any{"topic_id": "x"}, "use topics = [\"name\"]"},
		{"white_list", map[string]any{"white_list": "a.*"}, "use topics_pattern"},
		{"reset_beginning", map[string]any{"reset_beginning": true}, "auto_offset_reset = \"earliest\""},
		{"bad pattern", map[string]any{"topics_pattern": "a(("}, "not a regular expression"},
		{"no topics", map[string]any{"topics": []any{}}, "topics is empty"},
		{"zero threads", map[string]any{"consumer_threads": 0}, "consumer_threads must be from 1"},
		{"assignor class", map[string]any{"partition_assignment_strategy": "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"}, ""},
		{"by_duration", map[string]any{"auto_offset_reset": "by_duration:P1DT12H"}, ""},
		{"bad by_duration", map[string]any{"auto_offset_reset": "by_duration:1h"}, `"1h" is not an ISO 8601 duration`},
		{"smallest", map[string]any{"auto_offset_reset": "smallest"}, `auto_offset_reset "smallest" is not one of earliest, latest, by_duration`},
		{"topics in one string", map[string]any{"topics": "logs, metrics"}, `topics is a list: write topics = ["logs", "metrics"]`},
		{"topic name Kafka refuses", map[string]any{"topics": []any{"ok", "my logs"}}, `topic "my logs": a topic name holds only letters`},
		{"assignor classes", map[string]any{"partition_assignment_strategy": "org.apache.kafka.clients.consumer.RangeAssignor, org.apache.kafka.clients.consumer.RoundRobinAssignor"}, ""},
		{"eager and cooperative assignors", map[string]any{"partition_assignment_strategy": "org.apache.kafka.clients.consumer.RangeAssignor,org.apache.kafka.clients.consumer.CooperativeStickyAssignor"}, "mixes cooperative_sticky with eager strategies"},
		{"unknown assignor in a list", map[string]any{"partition_assignment_strategy": "range,com.example.MyAssignor"}, `partition_assignment_strategy "com.example.MyAssignor" is not one of`},
		{"unknown assignor", map[string]any{"partition_assignment_strategy": "roundrobin"}, `partition_assignment_strategy "roundrobin" is not one of range, round_robin`},
		{"heartbeat over session", map[string]any{"heartbeat_interval_ms": 20000}, "must be below session_timeout_ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := sdktest.Errors(sdktest.Validate(comp, c.settings))
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("errors:\n%s\nwant one with %q", got, c.want)
			}
		})
	}
	ds := sdktest.Validate(comp, map[string]any{"decorate_events": "true"})
	if len(ds) != 1 || !ds[0].Warning || !strings.Contains(ds[0].Summary, "deprecated") {
		t.Fatalf("decorate_events = true: %v, want one deprecation warning", ds)
	}
	// Sarama calls Setup, where by_duration and none act, only when a
	// cooperative member joins, not for the partitions it gains later.
	for _, reset := range []string{"none", "by_duration:PT1H"} {
		ds = sdktest.Validate(comp, map[string]any{"auto_offset_reset": reset, "partition_assignment_strategy": "cooperative_sticky"})
		if len(ds) != 1 || !ds[0].Warning || !strings.Contains(ds[0].Summary, "applies only to the partitions a member has when it joins") {
			t.Fatalf("%s with cooperative_sticky: %v, want a warning", reset, ds)
		}
	}
}

// ---- against the real broker ----------------------------------------------

func uniqueName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func produce(t *testing.T, brokers []string, topic string, msgs []*sarama.ProducerMessage) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, m := range msgs {
		m.Topic = topic
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
}

func createTopic(t *testing.T, brokers []string, topic string, partitions int32) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
}

// committed returns the group's committed offsets of topic, by partition.
func committed(t *testing.T, brokers []string, group, topic string, partitions int32) map[int32]int64 {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	parts := make([]int32, partitions)
	for i := range parts {
		parts[i] = int32(i)
	}
	res, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		if b := res.GetBlock(topic, p); b != nil {
			out[p] = b.Offset
		}
	}
	return out
}

func TestDecoratesWithLogstashNamesAndCommitsOnStop(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, group := uniqueName("in-decorate"), uniqueName("g")
	createTopic(t, brokers, topic, 2)
	ts := time.UnixMilli(1700000000123)
	produce(t, brokers, topic, []*sarama.ProducerMessage{
		{Partition: 0, Key: sarama.StringEncoder("k1"), Value: sarama.StringEncoder("hello"), Timestamp: ts,
			Headers: []sarama.RecordHeader{{Key: []byte("src"), Value: []byte("kcat")}, {Key: []byte("bin"), Value: []byte{0xff, 0xfe}},
				{Key: []byte("dup"), Value: []byte("first")}, {Key: []byte("dup"), Value: []byte("last")},
				{Key: []byte{0xff, 'n'}, Value: []byte("x")}}},
		{Partition: 1, Value: sarama.ByteEncoder([]byte{'b', 'a', 'd', 0xff}), Timestamp: ts},
		{Partition: 1, Key: sarama.StringEncoder("k3"), Value: sarama.StringEncoder(`{"json":"as text"}`), Timestamp: ts},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: 3, Settings: map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": group,
		"auto_offset_reset": "earliest", "decorate_events": "extended",
	}})
	if res.Err != nil {
		t.Fatalf("run: %v", res.Err)
	}
	if len(res.Events) != 3 {
		t.Fatalf("%d events, want 3", len(res.Events))
	}
	byMsg := map[string]map[string]any{}
	for _, e := range res.Events {
		k, _ := e.Metadata()["kafka"].(map[string]any)
		if k == nil {
			t.Fatalf("event %v has no [@metadata][kafka]", e.Fields())
		}
		byMsg[e.Message()] = k
		if e.Metadata()[sdk.MetadataInput] != nil {
			t.Fatalf("coordinates attached for a decorate_events filter the pipeline does not have: %v", e.Metadata())
		}
	}
	k := byMsg["hello"]
	want := map[string]any{"topic": topic, "consumer_group": group, "partition": int64(0), "offset": int64(0), "key": "k1", "timestamp": int64(1700000000123)}
	for name, v := range want {
		if k[name] != v {
			t.Errorf("[@metadata][kafka][%s] = %#v, want %#v", name, k[name], v)
		}
	}
	hs, _ := k["headers"].(map[string]any)
	if hs["src"] != "kcat" || hs["dup"] != "last" || hs["bin"] != nil || hs["\uFFFDn"] != "x" || len(hs) != 3 {
		t.Errorf("headers %q: want src=kcat, dup=last, \uFFFDn=x (a name not UTF-8, decoded) and no bin (a value not UTF-8)", hs)
	}
	// As Logstash's plain codec: bytes that are not UTF-8 become U+FFFD,
	// the rest of the record is kept.
	if bad := byMsg["bad\uFFFD"]; bad == nil || bad["key"] != nil {
		t.Errorf("record without a key and with a value that is not UTF-8: %v, messages %v", bad, byMsg)
	}
	if byMsg[`{"json":"as text"}`] == nil {
		t.Errorf("plain codec: the JSON text is the message")
	}
	// Delivered and stopped cleanly: everything is committed.
	if got := committed(t, brokers, group, topic, 2); got[0] != 1 || got[1] != 2 {
		t.Fatalf("committed %v, want partition 0 at 1 and 1 at 2", got)
	}
}

// auto_offset_reset = "by_duration:PT1H" (Kafka 4's, in Logstash's docs):
// a new group starts each partition at its first record of the last hour,
// and a partition with none at its end.
func TestAutoOffsetResetByDuration(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := uniqueName("in-by-duration")
	createTopic(t, brokers, topic, 3)
	now := time.Now()
	msg := func(p int32, v string, age time.Duration) *sarama.ProducerMessage {
		return &sarama.ProducerMessage{Partition: p, Value: sarama.StringEncoder(v), Timestamp: now.Add(-age)}
	}
	produce(t, brokers, topic, []*sarama.ProducerMessage{
		msg(0, "old-0", 3*time.Hour), msg(0, "new-0a", 20*time.Minute), msg(0, "new-0b", 10*time.Minute),
		msg(1, "old-1", 2*time.Hour), msg(1, "new-1", 5*time.Minute),
		msg(2, "old-2", 2*time.Hour),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: 3, Settings: map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": uniqueName("g"),
		"auto_offset_reset": "by_duration:PT1H",
	}})
	var got []string
	for _, e := range res.Events {
		got = append(got, e.Message())
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "new-0a,new-0b,new-1" {
		t.Fatalf("read %q (err %v), want the records of the last hour: new-0a, new-0b, new-1", got, res.Err)
	}
}

// The start by_duration picks is committed at once, not at the first
// delivery: a restart before it (the output down for longer than the
// duration) resumes there, instead of applying the duration again from a
// later time and skipping what was written in between. A partition with
// no record within the duration has its end committed.
func TestByDurationStartIsCommitted(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, group := uniqueName("in-by-duration-commit"), uniqueName("g")
	createTopic(t, brokers, topic, 2)
	now := time.Now()
	produce(t, brokers, topic, []*sarama.ProducerMessage{
		{Partition: 0, Value: sarama.StringEncoder("old"), Timestamp: now.Add(-3 * time.Hour)},
		{Partition: 0, Value: sarama.StringEncoder("new-a"), Timestamp: now.Add(-10 * time.Minute)},
		{Partition: 0, Value: sarama.StringEncoder("new-b"), Timestamp: now.Add(-5 * time.Minute)},
		{Partition: 1, Value: sarama.StringEncoder("old-1"), Timestamp: now.Add(-2 * time.Hour)},
	})
	comp := sdktest.Lookup(t, sdk.KindInput, "kafka")
	in, err := comp.NewInput(context.Background(), sdktest.Config(t, comp, map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic},
		"group_id": group, "auto_offset_reset": "by_duration:PT1H",
	}), sdktest.Env(t, "in"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pub := &holdingPublisher{} // the output never answers
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, pub) }()
	defer func() {
		pub.release()
		cancel()
		<-done
	}()
	var got map[int32]int64
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = committed(t, brokers, group, topic, 2); got[0] == 1 && got[1] == 1 {
			return
		}
	}
	t.Fatalf("committed %v with nothing delivered, want partition 0 at 1 (its first record of the hour) and 1 at 1 (its end)", got)
}

// A duration longer than the time since 1970 reads every record, as
// earliest: the time to start from is not before the epoch (a negative
// timestamp asks the broker something else, -1 and -2 the end and start).
func TestAutoOffsetResetByDurationOverTheEpoch(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := uniqueName("in-by-duration-long")
	createTopic(t, brokers, topic, 1)
	produce(t, brokers, topic, []*sarama.ProducerMessage{
		{Value: sarama.StringEncoder("a"), Timestamp: time.Now().Add(-48 * time.Hour)},
		{Value: sarama.StringEncoder("b"), Timestamp: time.Now()},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: 2, Settings: map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": uniqueName("g"),
		"auto_offset_reset": "by_duration:P36500D",
	}})
	if len(res.Events) != 2 || res.Events[0].Message() != "a" {
		t.Fatalf("read %d events (err %v), want both records from the first", len(res.Events), res.Err)
	}
}

// auto_offset_reset = "none": a group without an offset for a partition
// stops the input with an error that names it, instead of guessing.
func TestAutoOffsetResetNone(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := uniqueName("in-reset-none")
	createTopic(t, brokers, topic, 1)
	produce(t, brokers, topic, []*sarama.ProducerMessage{{Value: sarama.StringEncoder("x")}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: 1, Settings: map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": uniqueName("g"),
		"auto_offset_reset": "none",
	}})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "no committed offset for "+topic+"/0") || len(res.Events) != 0 || ctx.Err() != nil {
		t.Fatalf("run: %v, %d events; want the error naming %s/0 at once", res.Err, len(res.Events), topic)
	}
}

// auto_offset_reset = "none" with a committed offset the partition does
// not hold (retention deleted the records, the topic was made again):
// an error that says so, as Kafka's consumer throws, not a silent jump
// to the end.
func TestAutoOffsetResetNoneOutOfRange(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, group := uniqueName("in-reset-range"), uniqueName("g")
	createTopic(t, brokers, topic, 1)
	produce(t, brokers, topic, []*sarama.ProducerMessage{{Value: sarama.StringEncoder("a")}, {Value: sarama.StringEncoder("b")}})
	client, err := sarama.NewClient(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	om, _ := sarama.NewOffsetManagerFromClient(group, client)
	pom, _ := om.ManagePartition(topic, 0)
	pom.MarkOffset(100, "") // past the end: as if the topic were made again
	om.Commit()
	pom.Close()
	om.Close()

	settings := map[string]any{"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": group, "auto_offset_reset": "none"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: 1, Settings: settings})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "committed offset 100 for "+topic+"/0 is out of range (the partition holds offsets 0 to 2") || len(res.Events) != 0 || ctx.Err() != nil {
		t.Fatalf("run: %v, %d events; want the out-of-range error at once", res.Err, len(res.Events))
	}
	// earliest: reset, as Kafka's consumer does, and read.
	settings["auto_offset_reset"] = "earliest"
	res = sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: 2, Settings: settings})
	if res.Err != nil || len(res.Events) != 2 {
		t.Fatalf("earliest: %v, %d events; want both records", res.Err, len(res.Events))
	}
}

// Records deleted (retention) before the input read them: the broker
// answers the next fetch "offset out of range". Sarama stops that
// partition's consumer, the claim ends and with it the session; the
// member joins again and applies auto_offset_reset, as Kafka's consumer
// does: with earliest it goes on from the first record left (with none,
// Setup refuses the offset: TestAutoOffsetResetNoneOutOfRange).
func TestOffsetOutOfRangeWhileReading(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := uniqueName("in-range-gone")
	createTopic(t, brokers, topic, 1)
	const n, deleted = 2000, 1500
	value := strings.Repeat("x", 1000)
	var msgs []*sarama.ProducerMessage
	for i := range n {
		msgs = append(msgs, &sarama.ProducerMessage{Value: sarama.StringEncoder(fmt.Sprintf("%d %s", i, value))})
	}
	// Record batches of about ten records (a fetch returns whole batches,
	// whatever its size limit).
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.MaxMessageBytes = 10240
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		m.Topic = topic
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	p.Close()

	comp := sdktest.Lookup(t, sdk.KindInput, "kafka")
	// Small fetches: while the pipeline holds the first batch, the input
	// reads a few hundred records ahead and no more.
	in, err := New(context.Background(), sdktest.Config(t, comp, map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": uniqueName("g"),
		"auto_offset_reset": "earliest", "max_partition_fetch_bytes": 10240, "fetch_max_bytes": 10240,
	}), sdktest.Env(t, "kafka"))
	if err != nil {
		t.Fatal(err)
	}
	pub := &firstsPublisher{open: make(chan struct{}), seen: map[int]bool{}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, pub) }()
	for pub.waiting.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // the read-ahead fills
	admin, err := sarama.NewClusterAdmin(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.DeleteRecords(topic, map[int32]int64{0: deleted}); err != nil {
		t.Fatal(err)
	}
	close(pub.open)
	for !pub.has(n - 1) {
		if ctx.Err() != nil {
			t.Fatalf("the last record never came: the partition stopped at the deleted records (%d records read)", pub.count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := deleted; i < n; i++ {
		if !pub.has(i) {
			t.Fatalf("record %d, after the deleted ones, was not read", i)
		}
	}
	if pub.count() >= deleted {
		t.Fatalf("%d records read: the deleted ones were read ahead before the deletion, so the test shows nothing", pub.count())
	}
	cancel()
	<-done
}

// firstsPublisher holds every Publish until open is closed, and records
// which records (by their leading number) were published.
type firstsPublisher struct {
	open    chan struct{}
	waiting atomic.Int32
	mu      sync.Mutex
	seen    map[int]bool
}

func (p *firstsPublisher) Publish(ctx context.Context, events []*sdk.Event, ack func()) error {
	p.waiting.Add(1)
	select {
	case <-p.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	for _, e := range events {
		num, _, _ := strings.Cut(e.Message(), " ")
		i, _ := strconv.Atoi(num)
		p.seen[i] = true
	}
	p.mu.Unlock()
	go ack()
	return nil
}

func (p *firstsPublisher) has(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[i]
}

func (p *firstsPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

// Kafka's partition.assignment.strategy is a list in order of preference,
// and Logstash passes its value there: each is offered to the group.
func TestAssignorList(t *testing.T) {
	comp := sdktest.Lookup(t, sdk.KindInput, "kafka")
	c := sdktest.Config(t, comp, map[string]any{"partition_assignment_strategy": "org.apache.kafka.clients.consumer.RoundRobinAssignor,range,round_robin"})
	s, ds := parse(c)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := consumerConfig(s, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range cfg.Consumer.Group.Rebalance.GroupStrategies {
		names = append(names, st.Name())
	}
	if strings.Join(names, ",") != "roundrobin,range" || cfg.Validate() != nil {
		t.Fatalf("strategies %v (%v), want roundrobin then range", names, cfg.Validate())
	}
}

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT1H": time.Hour, "PT30M": 30 * time.Minute, "P1DT12H": 36 * time.Hour, "P2D": 48 * time.Hour,
		"PT0.5S": 500 * time.Millisecond, "pt90s": 90 * time.Second, "PT1H2M3.004S": time.Hour + 2*time.Minute + 3004*time.Millisecond,
	} {
		if got, err := parseISODuration(in); err != nil || got != want {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "1H", "PT-1H", "-PT1H", "P1H", "PT1D", "1h"} {
		if _, err := parseISODuration(bad); err == nil {
			t.Errorf("parseISODuration(%q) took it", bad)
		}
	}
}

func TestJSONLinesCodec(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := uniqueName("in-jsonl")
	createTopic(t, brokers, topic, 1)
	produce(t, brokers, topic, []*sarama.ProducerMessage{{Value: sarama.StringEncoder("{\"a\":1}\n{\"a\":2}\r\nnot json\n")}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: 3, Settings: map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": uniqueName("g"),
		"auto_offset_reset": "earliest", "codec": "json_lines",
	}})
	if len(res.Events) != 3 {
		t.Fatalf("%d events, want 3", len(res.Events))
	}
	if res.Events[0].Fields()["a"] != int64(1) || res.Events[1].Fields()["a"] != int64(2) || !res.Events[2].HasTag("_jsonparsefailure") {
		t.Fatalf("events %v %v %v", res.Events[0].Fields(), res.Events[1].Fields(), res.Events[2].Fields())
	}
}

// The coordinates' maps are made again batch after batch (decoder.reuse):
// across many batches, every event still carries its own record's.
func TestDecoratedCoordinatesStayWithTheirRecordAcrossBatches(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, group := uniqueName("in-decorate-many"), uniqueName("g")
	createTopic(t, brokers, topic, 1)
	const n = 2600 // batches of 500, and a part one
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{Key: sarama.StringEncoder(fmt.Sprint("k", i)), Value: sarama.StringEncoder(fmt.Sprint(i)),
			Timestamp: time.UnixMilli(1700000000000 + int64(i))}
	}
	produce(t, brokers, topic, msgs)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := sdktest.RunInput(t, ctx, sdktest.InputSpec{Name: "kafka", StopAfter: n, Settings: map[string]any{
		"bootstrap_servers": strings.Join(brokers, ","), "topics": []any{topic}, "group_id": group,
		"auto_offset_reset": "earliest", "decorate_events": "basic",
	}})
	if res.Err != nil {
		t.Fatalf("run: %v", res.Err)
	}
	if len(res.Events) != n {
		t.Fatalf("%d events, want %d", len(res.Events), n)
	}
	for _, e := range res.Events {
		i, err := strconv.Atoi(e.Message())
		if err != nil {
			t.Fatal(err)
		}
		k, _ := e.Metadata()["kafka"].(map[string]any)
		if k["offset"] != int64(i) || k["key"] != fmt.Sprint("k", i) || k["timestamp"] != 1700000000000+int64(i) || k["partition"] != int64(0) {
			t.Fatalf("record %d carries %v", i, k)
		}
	}
}
