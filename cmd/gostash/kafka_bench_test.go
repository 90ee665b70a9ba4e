package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gostash/gostash/sdk/sdktest/testenv"
)

// The Kafka benchmarks of issue #10, against the real broker of `make
// testenv-up` (skipped without it):
//
//	go test ./cmd/gostash -run '^$' -bench Kafka -benchtime 1x
//
// BenchmarkKafkaOutput writes kafkaBenchRecords 200-byte lines with snappy
// and acks "1" or "all": gostash (generator → kafka output), a bare sarama
// AsyncProducer loop with the same settings (testdata/sarama-produce) and
// kcat -P (librdkafka). BenchmarkKafkaInput reads a topic holding as many
// records: gostash (kafka input → null output), a bare sarama consumer
// group loop that marks each record after processing it
// (testdata/sarama-consume) and kcat -C. The sides run in turn, round
// after round (A B C A B C ...), so that the box's drift hits all of
// them; the figures are medians over the rounds and the ratios medians of
// the per-round ratios. Every run is checked to have done the work (the
// records the topic holds, the group committed or kcat printed) before it
// counts. CPU and memory are those of every process of a side (gostash's
// plugin processes included).
//
// For work on gostash's side, three variables:
// GOSTASH_KAFKA_BENCH_BEFORE=/path/to/older/gostash adds a side "before"
// that runs that binary the same way, so a change is measured against the
// code before it in the same rounds; GOSTASH_KAFKA_BENCH_SIDES=gostash,before,sarama
// runs only those sides; GOSTASH_KAFKA_BENCH_ROUNDS=7 sets the rounds and
// GOSTASH_KAFKA_BENCH_RECORDS=1000 the records (a small run shows each
// side's fixed cost: starting, joining the group, stopping).
// GOSTASH_CPUPROFILE_DIR (host.EnvCPUProfileDir) profiles every gostash
// process; the bare loops take -cpuprofile.
const (
	kafkaBenchPartitions = 3
	kafkaBenchLineLen    = 200
)

// kafkaBenchRecords is how many records a run writes or reads. A
// million: about a second and a half a run, where gostash's fixed costs
// (three processes started, the group joined, the stop) are some 100 ms.
// At 200,000 records those were half of gostash's run and a tenth of the
// loop's, and the figure said more about start-up than about records/s.
var kafkaBenchRecords = func() int {
	if n, err := strconv.Atoi(os.Getenv("GOSTASH_KAFKA_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}()

// kafkaBenchRounds is how many rounds of all sides a benchmark runs.
func kafkaBenchRounds() int {
	if n, err := strconv.Atoi(os.Getenv("GOSTASH_KAFKA_BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// kafkaBenchBinaries are the gostash binaries to run, by side name:
// this one, and the one of GOSTASH_KAFKA_BENCH_BEFORE when set.
func kafkaBenchBinaries() [][2]string {
	out := [][2]string{{"gostash", gostashBin}}
	if before := os.Getenv("GOSTASH_KAFKA_BENCH_BEFORE"); before != "" {
		out = append(out, [2]string{"before", before})
	}
	return out
}

// kafkaBenchLines are 64 distinct 200-byte lines, written in turn by every
// side: values that compress as log lines do, not as one repeated string.
func kafkaBenchLines() []string {
	out := make([]string, 64)
	for i := range out {
		l := fmt.Sprintf("Dec  4 20:%02d:%02d web-%d sshd[%d]: Accepted publickey for deploy from 10.0.%d.%d port %d ssh2: RSA SHA256:%x",
			i%60, (i*7)%60, i%5, 1000+i*37, i%4, i*3%250, 40000+i*11, uint64(i)*0x9e3779b97f4a7c15)
		for len(l) < kafkaBenchLineLen {
			l += " padding"
		}
		out[i] = l[:kafkaBenchLineLen]
	}
	return out
}

type kafkaSide struct {
	name string
	run  func(b *testing.B, round int) runStats
}

// kafkaBench runs the sides in turn, rounds times, and reports medians.
func kafkaBench(b *testing.B, sides []kafkaSide) {
	if only := os.Getenv("GOSTASH_KAFKA_BENCH_SIDES"); only != "" {
		want := strings.Split(only, ",")
		sides = slices.DeleteFunc(sides, func(s kafkaSide) bool { return !slices.Contains(want, s.name) })
		if len(sides) == 0 || sides[0].name != "gostash" {
			b.Fatalf("GOSTASH_KAFKA_BENCH_SIDES=%s: the sides must include gostash (the others are measured against it)", only)
		}
	}
	benchSides(b, sides, kafkaBenchRecords, "record", kafkaBenchRounds())
}

// benchSides runs the sides in turn, round after round (A B C A B C ...),
// each moving n units, and reports medians: units/s, CPU µs a unit and
// peak memory of each side, and the first side's (gostash's) ratios to
// each other one, medians of the per-round ratios.
func benchSides(b *testing.B, sides []kafkaSide, n int, unit string, rounds int) {
	stats := make([][]runStats, len(sides))
	per := func(st runStats) float64 { return float64(st.cpu.Nanoseconds()) / 1e3 / float64(n) }
	for range b.N {
		for r := range rounds {
			for s, side := range sides {
				st := side.run(b, r)
				// Printed, not logged: a benchmark's log keeps 10 lines,
				// fewer than the rounds of four or five sides.
				fmt.Printf("%s: round %d %-12s %8.0f %ss/s %5.2f cpu-µs/%s wall %6.2fs PSS %4.0f MB RSS %4.0f MB\n",
					b.Name(), r+1, side.name, float64(n)/st.wall.Seconds(), unit, per(st), unit, st.wall.Seconds(),
					float64(st.peakPSS)/(1<<20), float64(st.peakRSS)/(1<<20))
				stats[s] = append(stats[s], st)
			}
		}
	}
	for s, side := range sides {
		b.ReportMetric(median(stats[s], func(st runStats) float64 { return float64(n) / st.wall.Seconds() }), side.name+"-"+unit+"s/s")
		b.ReportMetric(median(stats[s], per), side.name+"-cpu-µs/"+unit)
		b.ReportMetric(median(stats[s], func(st runStats) float64 { return float64(st.peakPSS) / (1 << 20) }), side.name+"-peak-PSS-MB")
		b.ReportMetric(median(stats[s], func(st runStats) float64 { return float64(st.peakRSS) / (1 << 20) }), side.name+"-peak-RSS-MB")
		if s == 0 {
			continue
		}
		var speed, cpu []float64
		for r := range stats[s] {
			speed = append(speed, stats[s][r].wall.Seconds()/stats[0][r].wall.Seconds())
			cpu = append(cpu, float64(stats[0][r].cpu)/float64(stats[s][r].cpu))
		}
		b.ReportMetric(medianOf(speed), "gostash/"+side.name+"-"+unit+"s/s")
		b.ReportMetric(medianOf(cpu), "gostash/"+side.name+"-cpu")
	}
}

func median(sts []runStats, f func(runStats) float64) float64 {
	v := make([]float64, len(sts))
	for i, st := range sts {
		v[i] = f(st)
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// buildTestdata builds one of testdata's commands once per benchmark.
func buildTestdata(b *testing.B, name string) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/"+name).CombinedOutput(); err != nil {
		b.Fatalf("build testdata/%s: %v\n%s", name, err, out)
	}
	return bin
}

func haveKcat(b *testing.B) bool {
	if _, err := exec.LookPath("kcat"); err != nil {
		b.Log("kcat is not installed: its rows are left out (testenv.sh up installs it)")
		return false
	}
	return true
}

// runSide runs one side's command and fails the benchmark if it fails.
func runSide(b *testing.B, name string, cmd *exec.Cmd, stopWhen func() bool) runStats {
	b.Helper()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if cmd.Dir == "" {
		cmd.Dir = b.TempDir()
	}
	st, err := measureCmd(cmd, stopWhen)
	if err != nil {
		b.Fatalf("%s: %v\n%s", name, err, errb.String())
	}
	return st
}

func deleteTopic(b *testing.B, brokers []string, topic string) {
	if err := kafkaAdmin(b, brokers).DeleteTopic(topic); err != nil {
		b.Logf("delete topic %s: %v", topic, err)
	}
}

func BenchmarkKafkaOutput(b *testing.B) {
	brokers := testenv.KafkaBrokers(b)
	bootstrap := strings.Join(brokers, ",")
	lines := kafkaBenchLines()
	linesFile := writeFileB(b, "lines.txt", strings.Join(lines, "\n")+"\n")
	// kcat -P sends each line of its file: the same lines, as many records.
	var all strings.Builder
	for i := range kafkaBenchRecords {
		all.WriteString(lines[i%len(lines)])
		all.WriteByte('\n')
	}
	kcatFile := writeFileB(b, "records.txt", all.String())
	produceBin := buildTestdata(b, "sarama-produce")
	kcat := haveKcat(b)

	for _, acks := range []string{"1", "all"} {
		b.Run("acks="+acks, func(b *testing.B) {
			// Each run writes into a topic of its own, checked to hold every
			// record afterwards and deleted then.
			fresh := func(side string) string {
				topic := kafkaName("bench-out-" + side)
				kafkaTopic(b, brokers, topic, kafkaBenchPartitions)
				return topic
			}
			check := func(side, topic string) {
				if n := stored(b, brokers, topic); n != int64(kafkaBenchRecords) {
					b.Fatalf("%s: the topic holds %d records, want %d", side, n, kafkaBenchRecords)
				}
				deleteTopic(b, brokers, topic)
			}
			cfg := func(topic string) string {
				return writeFileB(b, "out.hcl", fmt.Sprintf(`
input "generator" "gen" {
  lines = %s
  count = %d
}
output "kafka" "out" {
  bootstrap_servers = %q
  topic_id          = %q
  compression_type  = "snappy"
  acks              = %q
  linger_ms         = 5
  batch_size        = 16384
  codec             = "plain"
  format            = "%%{message}"
}
`, hclList(lines), kafkaBenchRecords, bootstrap, topic, acks))
			}
			var sides []kafkaSide
			for _, bin := range kafkaBenchBinaries() {
				sides = append(sides, kafkaSide{bin[0], func(b *testing.B, _ int) runStats {
					topic := fresh(bin[0])
					st := runSide(b, bin[0], exec.Command(bin[1], "-f", cfg(topic), "--log.level", "warn"), nil)
					check(bin[0], topic)
					return st
				}})
			}
			sides = append(sides,
				kafkaSide{"sarama", func(b *testing.B, _ int) runStats {
					topic := fresh("sarama")
					st := runSide(b, "sarama-produce", exec.Command(produceBin, "-brokers", bootstrap, "-topic", topic,
						"-acks", acks, "-n", fmt.Sprint(kafkaBenchRecords), "-lines", linesFile), nil)
					check("sarama", topic)
					return st
				}},
			)
			if kcat {
				sides = append(sides, kafkaSide{"kcat", func(b *testing.B, _ int) runStats {
					topic := fresh("kcat")
					args := []string{"-P", "-b", bootstrap, "-t", topic, "-z", "snappy", "-X", "acks=" + acks,
						"-X", "linger.ms=5", "-X", "batch.size=16384", "-l", kcatFile}
					if acks == "all" {
						args = append(args, "-X", "enable.idempotence=true")
					}
					st := runSide(b, "kcat -P", exec.Command("kcat", args...), nil)
					check("kcat", topic)
					return st
				}})
			}
			kafkaBench(b, sides)
		})
	}
}

func BenchmarkKafkaInput(b *testing.B) {
	brokers := testenv.KafkaBrokers(b)
	bootstrap := strings.Join(brokers, ",")
	lines := kafkaBenchLines()
	linesFile := writeFileB(b, "lines.txt", strings.Join(lines, "\n")+"\n")
	consumeBin := buildTestdata(b, "sarama-consume")
	kcat := haveKcat(b)

	// One topic, filled once (snappy, as the output benchmark writes it).
	topic := kafkaName("bench-in")
	kafkaTopic(b, brokers, topic, kafkaBenchPartitions)
	b.Cleanup(func() { deleteTopic(b, brokers, topic) })
	fill := exec.Command(buildTestdata(b, "sarama-produce"), "-brokers", bootstrap, "-topic", topic,
		"-acks", "1", "-n", fmt.Sprint(kafkaBenchRecords), "-lines", linesFile)
	if out, err := fill.CombinedOutput(); err != nil {
		b.Fatalf("fill %s: %v\n%s", topic, err, out)
	}
	if n := stored(b, brokers, topic); n != int64(kafkaBenchRecords) {
		b.Fatalf("the topic holds %d records, want %d", n, kafkaBenchRecords)
	}

	admin := kafkaAdmin(b, brokers)
	// committed is how many records the group has committed.
	committed := func(group string) int64 {
		resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2}})
		if err != nil {
			return -1
		}
		var n int64
		for _, blk := range resp.Blocks[topic] {
			if blk.Offset > 0 {
				n += blk.Offset
			}
		}
		return n
	}
	checkCommitted := func(side, group string) {
		if n := committed(group); n != int64(kafkaBenchRecords) {
			b.Fatalf("%s: group %s committed %d records, want %d", side, group, n, kafkaBenchRecords)
		}
	}
	// gostash reads the topic into null; extra goes into the input block.
	gostash := func(bin, extra string) func(b *testing.B, _ int) runStats {
		return func(b *testing.B, _ int) runStats {
			group := kafkaName("bench-in-gostash")
			cfg := writeFileB(b, "in.hcl", fmt.Sprintf(`
input "kafka" "in" {
  bootstrap_servers = %q
  topics            = [%q]
  group_id          = %q
  auto_offset_reset = "earliest"
  %s
}
output "null" "out" {}
`, bootstrap, topic, group, extra))
			// The input runs until stopped: stop it once the group has
			// committed every record (delivered to the output).
			st := runSide(b, "gostash", exec.Command(bin, "-f", cfg, "--log.level", "warn"),
				func() bool { return committed(group) >= int64(kafkaBenchRecords) })
			checkCommitted("gostash", group)
			return st
		}
	}
	var sides []kafkaSide
	for _, bin := range kafkaBenchBinaries() {
		sides = append(sides, kafkaSide{bin[0], gostash(bin[1], "")})
	}
	sides = append(sides,
		// What Kafka's coordinates cost when asked for ([@metadata][kafka]
		// on every event); unasked, the input attaches none.
		kafkaSide{"gostash+decorate", gostash(gostashBin, `decorate_events = "basic"`)},
		kafkaSide{"sarama", func(b *testing.B, _ int) runStats {
			group := kafkaName("bench-in-sarama")
			st := runSide(b, "sarama-consume", exec.Command(consumeBin, "-brokers", bootstrap, "-topic", topic,
				"-group", group, "-n", fmt.Sprint(kafkaBenchRecords)), nil)
			checkCommitted("sarama", group)
			return st
		}},
	)
	if kcat {
		sides = append(sides, kafkaSide{"kcat", func(b *testing.B, _ int) runStats {
			cmd := exec.Command("kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n")
			var lines lineCounter
			cmd.Stdout = &lines // copied by exec's goroutine, which Wait waits for
			st := runSide(b, "kcat -C", cmd, nil)
			if n := int64(lines); n != int64(kafkaBenchRecords) {
				b.Fatalf("kcat -C printed %d records, want %d", n, kafkaBenchRecords)
			}
			return st
		}})
	}
	kafkaBench(b, sides)
}

// lineCounter counts the lines written to it.
type lineCounter int64

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
