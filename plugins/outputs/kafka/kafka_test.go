package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/sdktest"
	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

func comp(t *testing.T) *sdk.Component { return sdktest.Lookup(t, sdk.KindOutput, "kafka") }

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name     string
		settings map[string]any
		want     string // in the errors; "" for none
	}{
		{"minimal", map[string]any{"topic_id": "logs"}, ""},
		{"every codec and compression", map[string]any{"topic_id": "logs-%{type}", "codec": "json", "compression_type": "zstd", "acks": "1", "partitioner": "round_robin"}, ""},
		{"no topic", map[string]any{"topic_id": ""}, "topic_id is empty"},
		// Seen without an event: the text and what the dates become.
		{"space in the topic", map[string]any{"topic_id": "my logs"}, `topic_id "my logs": a topic name holds only letters, digits, '.', '_' and '-', not ' '`},
		{"whole timestamp", map[string]any{"topic_id": "logs-%{@timestamp}"}, `not ':', so every event would be refused (its text and dates give "logs-2026-12-07T15:04:05.000Z")`},
		{"colon beside a field", map[string]any{"topic_id": "logs:%{[type]}"}, "not ':'"},
		{"dates and fields", map[string]any{"topic_id": "Logs-%{[type]}-%{+YYYY.MM.dd}"}, ""},
		{"no port", map[string]any{"topic_id": "t", "bootstrap_servers": "kafka1,kafka2:9092"}, `"kafka1" has no port`},
		{"partitioner class", map[string]any{"topic_id": "t", "partitioner": "org.apache.kafka.clients.producer.UniformStickyPartitioner"}, ""},
		{"unknown partitioner class", map[string]any{"topic_id": "t", "partitioner": "com.example.MyPartitioner"}, `partitioner "com.example.MyPartitioner" is not one of default, round_robin, uniform_sticky`},
		{"negative retries", map[string]any{"topic_id": "t", "retries": -1}, "retries must be 0 or more"},
		{"ZooKeeper era", map[string]any{"topic_id": "t", "broker_list": "a:9092"}, "use bootstrap_servers"},
		{"old acks name", map[string]any{"topic_id": "t", "request_required_acks": 1}, `acks = "0", "1" or "all"`},
		{"SASL without credentials", map[string]any{"topic_id": "t", "security_protocol": "SASL_PLAINTEXT"}, "needs credentials"},
		{"SASL with JAAS", map[string]any{"topic_id": "t", "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
			"sasl_jaas_config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`}, ""},
		{"JAAS without user", map[string]any{"topic_id": "t", "security_protocol": "SASL_PLAINTEXT", "sasl_jaas_config": `org.apache.kafka.common.security.plain.PlainLoginModule required password="secret";`}, "no username"},
		{"encrypted key", map[string]any{"topic_id": "t", "security_protocol": "SSL", "ssl_key_password": "x"}, "encrypted private keys are not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := sdktest.Errors(sdktest.Validate(comp(t), c.settings))
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("errors:\n%s\nwant one with %q", got, c.want)
			}
			if strings.Contains(got, "secret") {
				t.Fatalf("an error shows the password:\n%s", got)
			}
		})
	}
}

// Mistakes configtest can see without connecting: a TLS file that is
// missing or not PEM (the elasticsearch output reads its CA files there
// too), credentials that the security protocol leaves unused; and the
// JAAS quoting Kafka's own parser takes.
func TestClientSettingsSeenAtConfigtest(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ts.jks")
	os.WriteFile(notPEM, []byte{0xfe, 0xed, 0xfe, 0xed}, 0o600)
	for _, c := range []struct {
		name     string
		settings map[string]any
		want     string // an error, or a warning when it starts with "warning: "
	}{
		{"missing trust store", map[string]any{"security_protocol": "SSL", "ssl_truststore_location": "/nope/ca.pem"}, "ssl_truststore_location: open /nope/ca.pem"},
		{"Java trust store", map[string]any{"security_protocol": "SASL_SSL", "sasl_username": "u", "sasl_password": "p", "ssl_truststore_location": notPEM}, "holds no PEM certificate"},
		{"missing key store", map[string]any{"security_protocol": "SSL", "ssl_keystore_location": "/nope/key.pem"}, "ssl_keystore_location: open /nope/key.pem"},
		{"SASL credentials in the clear", map[string]any{"sasl_username": "u", "sasl_password": "p"}, "warning: sasl_username is not used with security_protocol PLAINTEXT"},
		{"JAAS in single quotes", map[string]any{"security_protocol": "SASL_PLAINTEXT", "sasl_jaas_config": `org.apache.kafka.common.security.plain.PlainLoginModule required username='u' password='p\'s';`}, ""},
		{"JAAS bare words", map[string]any{"security_protocol": "SASL_PLAINTEXT", "sasl_jaas_config": `org.apache.kafka.common.security.plain.PlainLoginModule required username=alice password=secret;`}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			settings := map[string]any{"topic_id": "t"}
			for k, v := range c.settings {
				settings[k] = v
			}
			ds := sdktest.Validate(comp(t), settings)
			var errs, warns []string
			for _, d := range ds {
				if d.Warning {
					warns = append(warns, d.Summary)
				} else {
					errs = append(errs, d.Summary)
				}
			}
			got := strings.Join(errs, "\n")
			if w, ok := strings.CutPrefix(c.want, "warning: "); ok {
				if got != "" || !strings.Contains(strings.Join(warns, "\n"), w) {
					t.Fatalf("errors %q, warnings %q; want the warning %q", got, warns, w)
				}
				return
			}
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("errors:\n%s\nwant one with %q", got, c.want)
			}
		})
	}
}

// bootstrap_servers takes Logstash's comma-separated string and also a
// list (Logstash unwraps a one-element array), and a broker without a
// port is one error, not that one plus "empty".
func TestBootstrapServersForms(t *testing.T) {
	for _, c := range []struct {
		name    string
		servers any
		want    string // in the errors; "" for none
	}{
		{"Logstash's string", "kafka1:9092, kafka2:9092", ""},
		{"one-element list", []any{"kafka1:9092"}, ""},
		{"list", []any{"kafka1:9092", "kafka2:9092,kafka3:9092"}, ""},
		{"IPv6", "[::1]:9092", ""},
		{"listener prefix", "PLAINTEXT://kafka1:9092,SASL_SSL://kafka2:9093", ""},
		{"no port", "kafka1", `bootstrap server "kafka1" has no port`},
		{"port not a number", "kafka1:90x2", `the port "90x2" is not a number`},
		{"empty", "", "bootstrap_servers is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := sdktest.Errors(sdktest.Validate(comp(t), map[string]any{"topic_id": "t", "bootstrap_servers": c.servers}))
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("errors:\n%s\nwant one with %q", got, c.want)
			}
			if c.want != "" && strings.Count(got, "[bootstrap_servers]") != 1 {
				t.Fatalf("want one error, got:\n%s", got)
			}
		})
	}
}

func TestPermanentErrors(t *testing.T) {
	for err, want := range map[error]bool{
		sarama.ErrMessageSizeTooLarge:                     true,
		sarama.ErrTopicAuthorizationFailed:                true,
		fmt.Errorf("wrapped: %w", sarama.ErrInvalidTopic): true,
		sarama.ConfigurationError("too large"):            true,
		sarama.ErrNotLeaderForPartition:                   false,
		sarama.ErrOutOfBrokers:                            false,
		sarama.ErrNotEnoughReplicas:                       false,
		errors.New("connection reset"):                    false,
	} {
		if got := permanent(err); got != want {
			t.Errorf("permanent(%v) = %v, want %v", err, got, want)
		}
	}
}

// ---- against the real broker ----------------------------------------------

func uniqueTopic(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

type kcatRecord struct {
	Topic     string            `json:"topic"`
	Partition int               `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       *string           `json:"key"`
	Payload   string            `json:"payload"`
	Headers   []string          `json:"headers"`
	hmap      map[string]string `json:"-"`
}

// readBack reads n records of topic with kcat, another client.
func readBack(t *testing.T, bootstrap, topic string, n int) []kcatRecord {
	t.Helper()
	out := testenv.Kcat(t, "", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", fmt.Sprint(n), "-e", "-J", "-q")
	var recs []kcatRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r kcatRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("kcat line %q: %v", line, err)
		}
		r.hmap = map[string]string{}
		for i := 0; i+1 < len(r.Headers); i += 2 {
			r.hmap[r.Headers[i]] = r.Headers[i+1]
		}
		recs = append(recs, r)
	}
	if len(recs) != n {
		t.Fatalf("kcat read %d records of %s, want %d:\n%s", len(recs), topic, n, out)
	}
	return recs
}

func TestWritesEveryCompressionReadableByKcat(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	for _, comp := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			topic := uniqueTopic("out-" + comp)
			var events []*sdk.Event
			for i := range 50 {
				events = append(events, sdktest.Event(map[string]any{
					"message": fmt.Sprintf("line %d é", i), "[host][name]": "web-1", "n": i,
				}))
			}
			err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: map[string]any{
				"bootstrap_servers": bootstrap, "topic_id": topic, "compression_type": comp, "codec": "json",
				"message_key": "k-%{n}", "message_headers": map[string]any{"host": "%{[host][name]}", "static": "yes"},
			}}, events)
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			seen := map[int]bool{}
			for _, r := range readBack(t, bootstrap, topic, 50) {
				var e map[string]any
				if err := json.Unmarshal([]byte(r.Payload), &e); err != nil {
					t.Fatalf("payload %q is not JSON: %v", r.Payload, err)
				}
				n := int(e["n"].(float64))
				seen[n] = true
				if e["message"] != fmt.Sprintf("line %d é", n) || e["@timestamp"] != "2024-01-02T03:04:05.000Z" {
					t.Fatalf("record %d: %v", n, e)
				}
				if r.Key == nil || *r.Key != fmt.Sprintf("k-%d", n) {
					t.Fatalf("record %d key %v", n, r.Key)
				}
				if r.hmap["host"] != "web-1" || r.hmap["static"] != "yes" {
					t.Fatalf("record %d headers %v", n, r.Headers)
				}
			}
			if len(seen) != 50 {
				t.Fatalf("%d distinct records, want 50", len(seen))
			}
		})
	}
}

func TestPlainCodecAndRecordsOverTheLimitAreRejectedAlone(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	topic := uniqueTopic("out-limit")
	// A topic whose records may be at most 2000 bytes: the broker refuses
	// a larger one, and no retry will ever change that.
	admin, err := sarama.NewClusterAdmin(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	limit := "2000"
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"max.message.bytes": &limit}}, false); err != nil {
		t.Fatal(err)
	}
	events := []*sdk.Event{
		sdktest.Event(map[string]any{"message": "small one", "host": "h"}),
		sdktest.Event(map[string]any{"message": strings.Repeat("x", 5000), "host": "h"}),
		sdktest.Event(map[string]any{"message": "small two", "host": "h"}),
	}
	err = sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: map[string]any{
		"bootstrap_servers": bootstrap, "topic_id": topic,
	}}, events)
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != 1 {
		t.Fatalf("write: %v, want one rejected event", err)
	}
	if it := werr.Items[0]; it.Index != 1 || !it.Reject || !strings.Contains(it.Reason, "too large") && !strings.Contains(it.Reason, "larger") {
		t.Fatalf("outcome %+v, want event 1 rejected because it is too large", it)
	}
	recs := readBack(t, bootstrap, topic, 2)
	// Logstash's plain codec: "<@timestamp> <host> <message>".
	if recs[0].Payload != "2024-01-02T03:04:05.000Z h small one" || recs[1].Payload != "2024-01-02T03:04:05.000Z h small two" {
		t.Fatalf("records %q, %q", recs[0].Payload, recs[1].Payload)
	}
}

func TestMissingTopicFieldIsRejected(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := uniqueTopic("out-field")
	events := []*sdk.Event{
		sdktest.Event(map[string]any{"message": "a", "svc": "x"}),
		sdktest.Event(map[string]any{"message": "b"}),
	}
	err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: map[string]any{
		"bootstrap_servers": bootstrap, "topic_id": topic + "-%{svc}", "codec": "line", "format": "%{message}",
	}}, events)
	var werr *sdk.WriteError
	if !errors.As(err, &werr) || len(werr.Items) != 1 || werr.Items[0].Index != 1 || !werr.Items[0].Reject {
		t.Fatalf("write: %v, want event 1 rejected", err)
	}
	if r := readBack(t, bootstrap, topic+"-x", 1); r[0].Payload != "a\n" {
		t.Fatalf("record %q, want \"a\\n\"", r[0].Payload)
	}
}

// Logstash's kafka output takes any codec; json_lines writes the event's
// JSON and a newline, without @metadata.
func TestJSONLinesCodec(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := uniqueTopic("out-jsonl")
	e := sdktest.Event(map[string]any{"message": "a", "@metadata": map[string]any{"secret": "x"}})
	err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: map[string]any{
		"bootstrap_servers": bootstrap, "topic_id": topic, "codec": "json_lines",
	}}, []*sdk.Event{e})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	r := readBack(t, bootstrap, topic, 1)[0].Payload
	var got map[string]any
	if !strings.HasSuffix(r, "}\n") || json.Unmarshal([]byte(r), &got) != nil || got["message"] != "a" || got["@metadata"] != nil {
		t.Fatalf("record %q, want the event's JSON without @metadata and a newline", r)
	}
}

func TestUnreachableClusterIsRetried(t *testing.T) {
	err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: map[string]any{
		"bootstrap_servers": "127.0.0.1:1", "topic_id": "t",
	}}, []*sdk.Event{sdktest.Event(map[string]any{"message": "a"})})
	var werr *sdk.WriteError
	if err == nil || errors.As(err, &werr) {
		t.Fatalf("write: %v, want a plain error (the batch is retried)", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %q does not name the address", err)
	}
}

// murmur2 gives what Kafka's Java client does (Utils.murmur2, the vectors
// of its UtilsTest) and what sarama's murmur2 partitioner picks, so a key
// lands where a Java producer or the sarama-based output before puts it.
func TestMurmur2MatchesJavaAndSarama(t *testing.T) {
	for key, want := range map[string]int32{
		"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536,
		"a-little-bit-longer-string": -1486304829, "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971, "abc": 479470107,
	} {
		if got := int32(murmur2([]byte(key))); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", key, got, want)
		}
	}
	sp := sarama.NewMurmur2Partitioner("t")
	for i := range 1000 {
		key := []byte(fmt.Sprintf("key-%d-%s", i, strings.Repeat("x", i%7)))
		want, err := sp.Partition(&sarama.ProducerMessage{Key: sarama.ByteEncoder(key)}, 7)
		if err != nil {
			t.Fatal(err)
		}
		if got := int32(murmur2(key)&0x7fffffff) % 7; got != want {
			t.Fatalf("key %q: partition %d, sarama's %d", key, got, want)
		}
	}
}

// Against a 3-partition topic: a keyed record lands in its key's
// partition (murmur2, as the Java client's); round_robin without a key
// spreads records evenly, also with acks "0".
func TestPartitioners(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	bootstrap := strings.Join(brokers, ",")
	admin, err := sarama.NewClusterAdmin(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	events := func(n int) []*sdk.Event {
		var out []*sdk.Event
		for i := range n {
			out = append(out, sdktest.Event(map[string]any{"message": fmt.Sprint(i), "n": i}))
		}
		return out
	}
	for _, c := range []struct {
		name     string
		settings map[string]any
		check    func(t *testing.T, recs []kcatRecord)
	}{
		{"keys, acks 1", map[string]any{"message_key": "k-%{n}", "acks": "1"}, func(t *testing.T, recs []kcatRecord) {
			for _, r := range recs {
				if want := int(murmur2([]byte(*r.Key))&0x7fffffff) % 3; r.Partition != want {
					t.Errorf("key %s in partition %d, want %d", *r.Key, r.Partition, want)
				}
			}
		}},
		{"round_robin, acks 0", map[string]any{"partitioner": "round_robin", "acks": "0"}, func(t *testing.T, recs []kcatRecord) {
			per := map[int]int{}
			for _, r := range recs {
				per[r.Partition]++
			}
			if per[0] != 20 || per[1] != 20 || per[2] != 20 {
				t.Errorf("records per partition %v, want 20 each", per)
			}
		}},
		// Logstash: round_robin "distributes writes to all partitions
		// equally, regardless of message_key"; its Java class name too.
		{"round_robin with one key", map[string]any{"partitioner": "org.apache.kafka.clients.producer.RoundRobinPartitioner", "message_key": "same"}, func(t *testing.T, recs []kcatRecord) {
			per := map[int]int{}
			for _, r := range recs {
				per[r.Partition]++
				if r.Key == nil || *r.Key != "same" {
					t.Errorf("record %s lost its key", r.Payload)
					break
				}
			}
			if per[0] != 20 || per[1] != 20 || per[2] != 20 {
				t.Errorf("records per partition %v, want 20 each", per)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			topic := uniqueTopic("out-part")
			if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
				t.Fatal(err)
			}
			// With acks "0" nothing says a record went to a leader not
			// ready yet: wait until each partition's leader answers.
			waitLeaders(t, brokers, topic, 3)
			settings := map[string]any{"bootstrap_servers": bootstrap, "topic_id": topic, "codec": "line", "format": "%{message}"}
			for k, v := range c.settings {
				settings[k] = v
			}
			if err := sdktest.RunOutput(t, context.Background(), sdktest.OutputSpec{Name: "kafka", Settings: settings}, events(60)); err != nil {
				t.Fatalf("write: %v", err)
			}
			c.check(t, readBack(t, bootstrap, topic, 60))
		})
	}
}

// round_robin takes turns per topic, as Kafka's RoundRobinPartitioner,
// whatever the Writes' sizes: records written one a Write, of two topics
// in turn, spread over every partition of each.
func TestRoundRobinAcrossWritesAndTopics(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	admin, err := sarama.NewClusterAdmin(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	base := uniqueTopic("out-rr")
	topics := []string{base + "-a", base + "-b"}
	for _, topic := range topics {
		if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
			t.Fatal(err)
		}
		waitLeaders(t, brokers, topic, 2)
	}
	settings := map[string]any{"bootstrap_servers": strings.Join(brokers, ","), "topic_id": base + "-%{t}", "partitioner": "round_robin",
		"codec": "line", "format": "%{message}"}
	out, err := comp(t).NewOutput(context.Background(), sdktest.Config(t, comp(t), settings), sdktest.Env(t, "kafka"))
	if err != nil {
		t.Fatal(err)
	}
	event := func(i int) *sdk.Event {
		return sdktest.Event(map[string]any{"message": fmt.Sprint(i), "t": []string{"a", "b"}[i%2]})
	}
	for i := range 4 { // one record a Write
		if err := out.Write(context.Background(), []*sdk.Event{event(i)}); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if err := out.Write(context.Background(), []*sdk.Event{event(4), event(5), event(6), event(7)}); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := out.(sdk.Closer).Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics {
		per := map[int]int{}
		for _, r := range readBack(t, strings.Join(brokers, ","), topic, 4) {
			per[r.Partition]++
		}
		if per[0] != 2 || per[1] != 2 {
			t.Errorf("%s: records per partition %v, want 2 each", topic, per)
		}
	}
}

// waitLeaders waits until the leader of each of a new topic's partitions
// answers for it (a ListOffsets request goes to the leader).
func waitLeaders(t *testing.T, brokers []string, topic string, partitions int32) {
	t.Helper()
	c, err := sarama.NewClient(brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for p := int32(0); p < partitions; p++ {
		for {
			_, err := c.GetOffset(topic, p, sarama.OffsetNewest)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s/%d has no leader that answers: %v", topic, p, err)
			}
			time.Sleep(100 * time.Millisecond)
			_ = c.RefreshMetadata(topic)
		}
	}
}
