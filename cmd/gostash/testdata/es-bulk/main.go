// Command es-bulk is the bare go-elasticsearch loop that
// BenchmarkElasticsearchOutput measures gostash's elasticsearch output
// against: it reads JSON lines (each with an "@timestamp"), puts each
// line as it is under an index action to PREFIX-YYYY.MM (the month of
// its @timestamp, as gostash's index = "PREFIX-%{+YYYY.MM}" renders it),
// sends bulk requests of -batch documents with -inflight requests at
// once through the client's Bulk API, and reads every item's status of
// every answer, as the output does. It exits non-zero if any document
// was not taken.
//
//	es-bulk -url http://127.0.0.1:9200 -index bench -batch 125 -inflight 6 < docs.ndjson
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/elastic/go-elasticsearch/v8"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9200", "the engine")
	prefix := flag.String("index", "bench", "the index prefix")
	batch := flag.Int("batch", 125, "documents a request")
	inflight := flag.Int("inflight", 6, "requests at once")
	flag.Parse()
	client, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{*url}, DisableRetry: true})
	if err != nil {
		fail(err)
	}

	bodies := make(chan *bytes.Buffer, *inflight)
	free := make(chan *bytes.Buffer, 2**inflight)
	for range cap(free) {
		free <- new(bytes.Buffer)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sent, bad int
	for range *inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r struct {
				Errors bool                              `json:"errors"`
				Items  []map[string]struct{ Status int } `json:"items"`
			}
			for body := range bodies {
				n := bytes.Count(body.Bytes(), []byte{'\n'}) / 2
				res, err := client.Bulk(bytes.NewReader(body.Bytes()), client.Bulk.WithContext(context.Background()))
				if err != nil {
					fail(err)
				}
				r.Items = r.Items[:0]
				err = json.NewDecoder(res.Body).Decode(&r)
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil || res.IsError() || len(r.Items) != n {
					fail(fmt.Errorf("bulk answer %s (%d items for %d documents): %v", res.Status(), len(r.Items), n, err))
				}
				notTaken := 0
				for _, it := range r.Items {
					for _, v := range it {
						if v.Status/100 != 2 {
							notTaken++
						}
					}
				}
				mu.Lock()
				sent += n
				bad += notTaken
				mu.Unlock()
				body.Reset()
				free <- body
			}
		}()
	}

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	body, docs := <-free, 0
	for {
		line, err := in.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			body.WriteString(`{"index":{"_index":"`)
			body.WriteString(*prefix)
			body.WriteByte('-')
			m := month(line)
			body.Write(m[:])
			body.WriteString("\"}}\n")
			body.Write(bytes.TrimRight(line, "\r\n"))
			body.WriteByte('\n')
			if docs++; docs == *batch {
				bodies <- body
				body, docs = <-free, 0
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(err)
		}
	}
	if docs > 0 {
		bodies <- body
	}
	close(bodies)
	wg.Wait()
	if bad > 0 {
		fail(fmt.Errorf("%d of %d documents not taken", bad, sent))
	}
	fmt.Fprintf(os.Stderr, "es-bulk: %d documents taken\n", sent)
}

// month is "YYYY.MM" from the line's "@timestamp":"YYYY-MM-...".
func month(line []byte) [7]byte {
	const key = `"@timestamp":"`
	i := bytes.Index(line, []byte(key))
	if i < 0 || len(line) < i+len(key)+7 {
		fail(fmt.Errorf("no @timestamp in %s", line))
	}
	m := line[i+len(key) : i+len(key)+7]
	return [7]byte{m[0], m[1], m[2], m[3], '.', m[5], m[6]}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "es-bulk:", err)
	os.Exit(1)
}
