// Command sarama-consume is the bare sarama consumer-group loop that
// BenchmarkKafkaInput measures gostash's kafka input against: a member
// of a new group with the settings the kafka input gives sarama by
// default (auto_offset_reset = "earliest"), whose handler "processes"
// each record (reads its value) and then marks it; it leaves the group,
// committing, once n records are marked.
//
//	sarama-consume -brokers 127.0.0.1:9092 -topic t -group g -n 300000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap servers, comma-separated")
	topic := flag.String("topic", "", "the topic")
	group := flag.String("group", "", "the consumer group")
	n := flag.Int64("n", 0, "records to read")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here (to compare with gostash's GOSTASH_CPUPROFILE_DIR)")
	flag.Parse()
	if *cpuprofile != "" {
		stop := startProfile(*cpuprofile)
		defer stop()
	}
	if *topic == "" || *group == "" || *n <= 0 {
		fail(fmt.Errorf("want -topic, -group and -n"))
	}

	// What plugins/inputs/kafka's consumerConfig sets by default.
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.ClientID = "sarama-consume"
	cfg.Metadata.Full = false
	g := &cfg.Consumer.Group
	g.Session.Timeout = 10 * time.Second
	g.Heartbeat.Interval = 3 * time.Second
	g.Rebalance.Timeout = 300 * time.Second
	g.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	co := &cfg.Consumer
	co.Return.Errors = true
	co.Offsets.AutoCommit.Enable = true
	co.Offsets.AutoCommit.Interval = 5 * time.Second
	co.Offsets.Initial = sarama.OffsetOldest
	co.Fetch.Min = 1
	co.Fetch.Default = 1048576
	co.Fetch.Max = 52428800
	co.MaxWaitTime = 500 * time.Millisecond
	co.MaxProcessingTime = time.Second
	cfg.ChannelBufferSize = 256
	sarama.MaxDecompressedBatchSize = 1 << 30 // as plugins/inputs/kafka sets it

	cg, err := sarama.NewConsumerGroup(strings.Split(*brokers, ","), *group, cfg)
	if err != nil {
		fail(err)
	}
	go func() {
		for err := range cg.Errors() {
			fmt.Fprintln(os.Stderr, "sarama-consume:", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	h := &handler{n: *n, done: cancel}
	for ctx.Err() == nil {
		if err := cg.Consume(ctx, []string{*topic}, h); err != nil && ctx.Err() == nil {
			fail(err)
		}
	}
	if err := cg.Close(); err != nil { // commits what was marked
		fail(err)
	}
	if got := h.seen.Load(); got < *n {
		fail(fmt.Errorf("read %d records, want %d", got, *n))
	}
}

type handler struct {
	n     int64
	seen  atomic.Int64
	bytes atomic.Int64
	done  func()
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.bytes.Add(int64(len(m.Value))) // the "processing"
		sess.MarkMessage(m, "")
		if h.seen.Add(1) == h.n {
			h.done()
		}
	}
	return nil
}

func startProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		fail(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fail(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sarama-consume:", err)
	os.Exit(1)
}
