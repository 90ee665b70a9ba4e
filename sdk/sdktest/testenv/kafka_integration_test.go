package testenv_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// These tests talk to the real Kafka broker that `make testenv-up` starts. They
// show the environment works; gostash's own Kafka plugins test themselves.

// uniqueName keeps reruns against the same long-lived broker apart.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	// Kafka 4 dropped the protocol versions of brokers before 2.1; say what we talk to.
	cfg.Version = sarama.V4_0_0_0
	cfg.ClientID = "gostash-testenv"
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Compression = sarama.CompressionSnappy
	// The topic is auto-created by the first metadata request; its leader takes a moment.
	cfg.Producer.Retry.Max = 10
	cfg.Producer.Retry.Backoff = 200 * time.Millisecond
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

// produce sends n snappy-compressed messages with a key and a header to topic,
// which does not exist yet: the broker's auto.create.topics.enable makes it.
func produce(t *testing.T, brokers []string, topic string, n int) {
	t.Helper()
	p, err := sarama.NewSyncProducer(brokers, saramaConfig())
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{
			Topic:   topic,
			Key:     sarama.StringEncoder(fmt.Sprintf("key-%d", i)),
			Value:   sarama.StringEncoder(fmt.Sprintf(`{"n":%d}`, i)),
			Headers: []sarama.RecordHeader{{Key: []byte("src"), Value: []byte("gostash")}},
		}
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatalf("produce %d messages to %s: %v", n, topic, err)
	}
}

func TestKafkaProduceConsume(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := uniqueName("testenv-roundtrip")
	const n = 100
	produce(t, brokers, topic, n)
	checkCodec(t, topic, codecSnappy)

	c, err := sarama.NewConsumer(brokers, saramaConfig())
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("consume %s/0: %v", topic, err)
	}
	defer pc.Close()

	timeout := time.After(30 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case m := <-pc.Messages():
			if string(m.Key) != fmt.Sprintf("key-%d", i) || string(m.Value) != fmt.Sprintf(`{"n":%d}`, i) {
				t.Fatalf("message %d: key %q value %q", i, m.Key, m.Value)
			}
			if len(m.Headers) != 1 || string(m.Headers[0].Key) != "src" || string(m.Headers[0].Value) != "gostash" {
				t.Fatalf("message %d: headers %v", i, m.Headers)
			}
		case err := <-pc.Errors():
			t.Fatalf("consume: %v", err)
		case <-timeout:
			t.Fatalf("got %d of %d messages in 30s", i, n)
		}
	}
}

// groupHandler counts messages and marks them, so the group commits its offsets.
type groupHandler struct {
	mu   sync.Mutex
	seen int
	want int
	done chan struct{}
}

func (h *groupHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		s.MarkMessage(m, "")
		h.mu.Lock()
		h.seen++
		if h.seen == h.want {
			close(h.done)
		}
		h.mu.Unlock()
	}
	return nil
}

func TestKafkaConsumerGroup(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, group := uniqueName("testenv-group"), uniqueName("testenv-group")
	const n = 50
	produce(t, brokers, topic, n)

	cfg := saramaConfig()
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	g, err := sarama.NewConsumerGroup(brokers, group, cfg)
	if err != nil {
		t.Fatalf("consumer group: %v", err)
	}
	h := &groupHandler{want: n, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	consumed := make(chan error, 1)
	go func() { consumed <- g.Consume(ctx, []string{topic}, h) }()
	select {
	case <-h.done:
	case err := <-consumed:
		t.Fatalf("group %s ended early: %v", group, err)
	case <-time.After(60 * time.Second):
		t.Fatalf("group %s saw %d of %d messages in 60s", group, h.seen, n)
	}
	cancel()
	<-consumed
	if err := g.Close(); err != nil { // Close commits the marked offsets.
		t.Fatalf("close group: %v", err)
	}

	admin, err := sarama.NewClusterAdmin(brokers, saramaConfig())
	if err != nil {
		t.Fatalf("admin: %v", err)
	}
	defer admin.Close()
	offsets, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0}})
	if err != nil {
		t.Fatalf("list offsets of %s: %v", group, err)
	}
	if b := offsets.GetBlock(topic, 0); b == nil || b.Offset != n {
		t.Fatalf("committed offset of %s on %s/0: %+v, want %d", group, topic, b, n)
	}
}

// kcat is Debian's librdkafka client: a second, independent implementation of the
// protocol that checks the broker (and, later, what gostash writes) from outside.
func kcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("kcat", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

func TestKcat(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	if _, err := exec.LookPath("kcat"); err != nil {
		if testenv.Required() {
			t.Fatal("kcat is not installed: testenv.sh up installs it (apt-get install kcat)")
		}
		t.Skip("kcat is not installed (apt-get install kcat, or run `make testenv-up`)")
	}

	meta := kcat(t, "", "-L", "-b", bootstrap, "-m", "10")
	if !strings.Contains(meta, "broker 1 at 127.0.0.1:") {
		t.Fatalf("kcat -L lists no broker 1:\n%s", meta)
	}

	topic := uniqueName("testenv-kcat")
	// librdkafka sends a batch uncompressed when compressing does not make it
	// smaller, so the value must compress well for the batch to really be snappy.
	value := "hello snappy " + strings.Repeat("abcdefgh", 64)
	// -K: splits key from value, -H adds a header, -z snappy compresses the batch.
	kcat(t, "k1:"+value+"\n", "-b", bootstrap, "-P", "-t", topic, "-z", "snappy", "-K:", "-H", "src=kcat")
	got := kcat(t, "", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-c", "1",
		"-f", "p=%p o=%o k=%k h=%h s=%s\n")
	if want := "p=0 o=0 k=k1 h=src=kcat s=" + value + "\n"; got != want {
		t.Fatalf("kcat round trip: got %q, want %q", got, want)
	}
	checkCodec(t, topic, codecSnappy)

	// And sarama reads what kcat wrote: key, header and snappy batch alike.
	c, err := sarama.NewConsumer(testenv.KafkaBrokers(t), saramaConfig())
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	defer pc.Close()
	select {
	case m := <-pc.Messages():
		if string(m.Key) != "k1" || string(m.Value) != value || len(m.Headers) != 1 ||
			string(m.Headers[0].Key) != "src" || string(m.Headers[0].Value) != "kcat" {
			t.Fatalf("sarama read kcat's message as key %q value %q headers %v", m.Key, m.Value, m.Headers)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sarama did not read kcat's message in 30s")
	}
}

const codecSnappy = 2 // record batch attributes & 7

// checkCodec reads the first log segment of topic's partition 0 straight from the
// broker's data folder (laid out by testenv.sh: data/kafka/node-N/kraft/TOPIC-0)
// and checks every record batch carries the given compression codec. Neither
// client says how a batch was stored, and librdkafka silently skips compression
// when it does not pay, so only the broker's disk proves "snappy".
func checkCodec(t *testing.T, topic string, want int) {
	t.Helper()
	env := testenv.Get(t)
	dataDir := filepath.Join(filepath.Dir(env.Path), "data", "kafka")
	if _, err := os.Stat(dataDir); err != nil {
		// GOSTASH_TESTENV_FILE may name brokers that testenv.sh did not start.
		t.Logf("not checking the stored codec: no broker data at %s", dataDir)
		return
	}
	pattern := filepath.Join(dataDir, "node-*", "kraft", topic+"-0", "00000000000000000000.log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil || len(data) == 0 {
				continue // a follower that has not fetched yet
			}
			for off, batch := 0, 0; off+23 <= len(data); batch++ {
				// baseOffset int64, batchLength int32, leaderEpoch int32, magic int8, crc int32, attributes int16
				length := int(binary.BigEndian.Uint32(data[off+8:]))
				if magic := data[off+16]; magic != 2 {
					t.Fatalf("%s: batch %d: magic %d, want 2", f, batch, magic)
				}
				if codec := int(binary.BigEndian.Uint16(data[off+21:]) & 7); codec != want {
					t.Fatalf("%s: batch %d stored with codec %d, want %d", f, batch, codec, want)
				}
				off += 12 + length
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no data file matches %s", pattern)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
