// Command sarama-produce is the bare sarama producer loop that
// BenchmarkKafkaOutput measures gostash's kafka output against: an
// AsyncProducer with the settings the kafka output gives sarama for
// compression_type = "snappy", linger_ms = 5, batch_size = 16384 and the
// given acks (idempotent with "all", as the output is), writing the lines
// of a file round and round, n records, and waiting for the broker to
// acknowledge each one.
//
//	sarama-produce -brokers 127.0.0.1:9092 -topic t -acks all -n 300000 -lines lines.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap servers, comma-separated")
	topic := flag.String("topic", "", "the topic")
	acks := flag.String("acks", "1", `"1" or "all"`)
	n := flag.Int("n", 0, "records to write")
	linesFile := flag.String("lines", "", "a file of lines: the record values, in turn")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here (to compare with gostash's GOSTASH_CPUPROFILE_DIR)")
	flag.Parse()
	if *cpuprofile != "" {
		stop := startProfile(*cpuprofile)
		defer stop()
	}
	lines, err := readLines(*linesFile)
	if err != nil || len(lines) == 0 || *topic == "" || *n <= 0 {
		fail(fmt.Errorf("want -topic, -n and a -lines file with lines (%v)", err))
	}

	// What plugins/outputs/kafka's producerConfig sets.
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.ClientID = "sarama-produce"
	cfg.Metadata.Full = false
	p := &cfg.Producer
	p.Return.Successes = true
	p.Return.Errors = true
	p.Flush.Frequency = 5 * time.Millisecond
	p.Flush.Bytes = 16384
	p.Retry.Max = 3
	p.Compression = sarama.CompressionSnappy
	p.Partitioner = sarama.NewMurmur2Partitioner
	switch *acks {
	case "1":
		p.RequiredAcks = sarama.WaitForLocal
	case "all":
		p.RequiredAcks = sarama.WaitForAll
		p.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
	default:
		fail(fmt.Errorf("acks %q: want 1 or all", *acks))
	}
	prod, err := sarama.NewAsyncProducer(strings.Split(*brokers, ","), cfg)
	if err != nil {
		fail(err)
	}
	done := make(chan error, 1)
	go func() {
		var failed int
		var first error
		succ, errs := prod.Successes(), prod.Errors()
		for got := 0; got < *n; got++ {
			select {
			case <-succ:
			case e := <-errs:
				if failed++; first == nil {
					first = e.Err
				}
			}
		}
		if failed > 0 {
			done <- fmt.Errorf("%d records failed: %v", failed, first)
			return
		}
		done <- nil
	}()
	for i := 0; i < *n; i++ {
		prod.Input() <- &sarama.ProducerMessage{Topic: *topic, Value: sarama.ByteEncoder(lines[i%len(lines)])}
	}
	err = <-done
	if cerr := prod.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fail(err)
	}
}

func readLines(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out, sc.Err()
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
	fmt.Fprintln(os.Stderr, "sarama-produce:", err)
	os.Exit(1)
}
