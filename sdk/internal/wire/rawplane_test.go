package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// randomBytes returns n bytes that are not all alike, so that a misplaced
// byte shows.
func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

// randomMessages are messages of every kind the streams carry, with
// batches from empty to several MiB.
func randomMessages(r *rand.Rand) []proto.Message {
	var out []proto.Message
	for _, n := range []int{0, 1, 127, 128, 16 << 10, 100_000, 3<<20 + 7} {
		ev := randomBytes(r, n)
		out = append(out,
			&pluginv1.ProcessRequest{Seq: r.Uint64(), InstanceIds: []uint64{1, r.Uint64()}, Events: ev, MaxEvents: r.Uint32()},
			&pluginv1.ProcessResponse{Seq: r.Uint64(), Events: ev, Count: r.Uint32(), More: n%2 == 0,
				FilterCounts: []*pluginv1.FilterCount{{In: 3, Out: 2, Dropped: 1, DurationNanos: r.Uint64()}}},
			&pluginv1.WriteRequest{Seq: r.Uint64(), InstanceId: r.Uint64(), Events: ev},
			&pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Batch{Batch: &pluginv1.SourceBatch{BatchId: r.Uint64(), Events: ev, Count: r.Uint32()}}},
		)
	}
	out = append(out,
		&pluginv1.InputMessage{Msg: &pluginv1.InputMessage_End{End: &pluginv1.EndOfInput{}}},
		&pluginv1.InputMessage{Msg: &pluginv1.InputMessage_Error{Error: &pluginv1.Diagnostic{Summary: "input failed"}}},
		&pluginv1.InputControl{Msg: &pluginv1.InputControl_Ack{Ack: &pluginv1.Ack{BatchId: r.Uint64()}}},
		&pluginv1.WriteResponse{Seq: 4, Skipped: 2, Results: []*pluginv1.ItemResult{{Index: 1, Code: pluginv1.ItemResult_REJECT, Reason: "mapping conflict"}}},
		&pluginv1.ProcessResponse{Seq: 1, Error: "chain failed"},
	)
	return out
}

// A message written as head and batch apart is the message.
func TestAppendMessageIsTheMessage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range randomMessages(r) {
		head, batch, err := appendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		got := m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(append(head, batch...), got); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !proto.Equal(got, m) {
			t.Fatalf("%T: read back differs", m)
		}
		if len(batch) > 0 && len(head) > 64 {
			t.Fatalf("%T: head of %d bytes: the batch was copied into it", m, len(head))
		}
	}
}

// listen serves handle in a private directory of the test.
func listen(t *testing.T, handle RawHandler) *RawListener {
	t.Helper()
	dir, err := os.MkdirTemp("", "rawplane-test-") // t.TempDir's path can be too long for a socket
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := Listen(dir, handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// echo answers each message with itself, then a last message once the
// core has closed its side.
func echo(method string, s *ServerConn) error {
	for {
		req := &ProcessRequest{}
		err := s.RecvMsg(req)
		if errors.Is(err, io.EOF) {
			return s.SendMsg(&pluginv1.ProcessResponse{Seq: 999, More: false})
		}
		if err != nil {
			return err
		}
		if req.MaxEvents == 1 {
			return errors.New("the chain failed: " + method)
		}
		err = s.SendMsg(&pluginv1.ProcessResponse{Seq: req.Seq, Events: req.Events, Count: uint32(len(req.InstanceIds))})
		req.Release()
		if err != nil {
			return err
		}
	}
}

func TestRoundTripOverTheSocket(t *testing.T) {
	l := listen(t, echo)
	s, err := Dial[pluginv1.ProcessRequest, pluginv1.ProcessResponse](context.Background(), &l.Plane, "Process")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		n := r.IntN(4 << 10)
		if i%50 == 0 {
			n = 20 << 20 // a large batch, over many socket buffers
		}
		ev := randomBytes(r, n)
		if err := s.Send(&pluginv1.ProcessRequest{Seq: uint64(i), InstanceIds: []uint64{7, 8}, Events: ev}); err != nil {
			t.Fatal(err)
		}
		resp := &ProcessResponse{}
		if err := s.RecvMsg(resp); err != nil {
			t.Fatal(err)
		}
		if resp.Seq != uint64(i) || resp.Count != 2 || !bytes.Equal(resp.Events, ev) {
			t.Fatalf("message %d (%d bytes) came back as seq %d, %d bytes", i, n, resp.Seq, len(resp.Events))
		}
		resp.Release()
	}
	// Half-close: the plugin sees the end of the core's messages and can
	// still answer; then the stream ends without an error.
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	last, err := s.Recv()
	if err != nil || last.Seq != 999 {
		t.Fatalf("after CloseSend: %v %v", last, err)
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("the end of a method that returned: %v, want io.EOF", err)
	}
}

// A method's error reaches the core as gRPC would carry it, and ends the
// stream.
func TestMethodErrorEndsTheStream(t *testing.T) {
	l := listen(t, echo)
	s, err := Dial[pluginv1.ProcessRequest, pluginv1.ProcessResponse](context.Background(), &l.Plane, "Process")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&pluginv1.ProcessRequest{Seq: 1, MaxEvents: 1}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // and it stays ended
		_, err = s.Recv()
		if status.Code(err) != codes.Unknown || status.Convert(err).Message() != "the chain failed: Process" {
			t.Fatalf("got %v, want the method's error", err)
		}
	}
}

// Cancelling the core's context ends the stream on both sides, while the
// plugin's method is busy.
func TestCancelEndsBothSides(t *testing.T) {
	busy, seen := make(chan struct{}), make(chan error, 1)
	l := listen(t, func(_ string, s *ServerConn) error {
		if err := s.RecvMsg(&pluginv1.WriteRequest{}); err != nil {
			return err
		}
		close(busy)
		select { // an output stuck in a write
		case <-s.Context().Done():
			seen <- s.Context().Err()
		case <-time.After(10 * time.Second):
			seen <- errors.New("the method's context did not end")
		}
		return s.Context().Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Dial[pluginv1.WriteRequest, pluginv1.WriteResponse](ctx, &l.Plane, "Write")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&pluginv1.WriteRequest{Seq: 1, Events: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	<-busy
	recvErr := make(chan error, 1)
	go func() { _, err := s.Recv(); recvErr <- err }()
	cancel()
	if err := <-recvErr; status.Code(err) != codes.Canceled {
		t.Fatalf("core side after cancel: %v, want Canceled", err)
	}
	if err := <-seen; !errors.Is(err, context.Canceled) {
		t.Fatalf("plugin side after cancel: %v", err)
	}
	if err := s.Send(&pluginv1.WriteRequest{Seq: 2}); status.Code(err) != codes.Canceled {
		t.Fatalf("send after cancel: %v, want Canceled", err)
	}
}

// fakePlugin accepts one connection at a socket and lets serve do what a
// broken plugin would.
func fakePlugin(t *testing.T, serve func(c net.Conn)) *RawPlane {
	t.Helper()
	dir, err := os.MkdirTemp("", "rawplane-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Read(make([]byte, 64)) // the hello
		serve(c)
	}()
	return &RawPlane{Socket: path}
}

func frame(kind byte, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	return append(append(b, kind), payload...)
}

// A plugin that dies (in a frame or between two) is a lost connection:
// Unavailable, what the core restarts a process for; never io.EOF, which
// would read as a method that returned.
func TestCrashedPluginIsUnavailable(t *testing.T) {
	for name, serve := range map[string]func(net.Conn){
		"between frames": func(c net.Conn) {
			msg, _ := proto.Marshal(&pluginv1.WriteResponse{Seq: 1})
			c.Write(frame(frameMsg, msg))
		},
		"inside a frame": func(c net.Conn) {
			msg, _ := proto.Marshal(&pluginv1.WriteResponse{Seq: 1, Results: []*pluginv1.ItemResult{{Reason: strings.Repeat("r", 100)}}})
			c.Write(frame(frameMsg, msg)[:40])
		},
	} {
		t.Run(name, func(t *testing.T) {
			plane := fakePlugin(t, serve)
			s, err := Dial[pluginv1.WriteRequest, pluginv1.WriteResponse](context.Background(), plane, "Write")
			if err != nil {
				t.Fatal(err)
			}
			var got error
			for got == nil {
				_, got = s.Recv()
			}
			if status.Code(got) != codes.Unavailable {
				t.Fatalf("got %v, want Unavailable", got)
			}
		})
	}
}

// The plugin side of a core whose connection is cut in a frame.
func TestCutInAFrameEndsTheMethod(t *testing.T) {
	got := make(chan error, 1)
	l := listen(t, func(_ string, s *ServerConn) error {
		err := s.RecvMsg(&WriteRequest{})
		got <- err
		return err
	})
	c, err := net.Dial("unix", l.Plane.Socket)
	if err != nil {
		t.Fatal(err)
	}
	hello := append(append([]byte{byte(len(l.Plane.Token))}, l.Plane.Token...), "Write"...)
	c.Write(frame(frameHello, hello))
	c.Write(frame(frameMsg, make([]byte, 1000))[:100])
	c.Close()
	select {
	case err := <-got:
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("got %v, want Unavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the method never saw the cut")
	}
}

// Only a connection that presents the token runs a method.
func TestWrongTokenIsRefused(t *testing.T) {
	ran := make(chan struct{}, 1)
	l := listen(t, func(string, *ServerConn) error { ran <- struct{}{}; return nil })
	plane := l.Plane
	plane.Token = bytes.Repeat([]byte{1}, len(plane.Token))
	s, err := Dial[pluginv1.WriteRequest, pluginv1.WriteResponse](context.Background(), &plane, "Write")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("got %v, want PermissionDenied", err)
	}
	select {
	case <-ran:
		t.Fatal("a method ran for a connection without the token")
	default:
	}
}

func TestListenRefusesASharedDirectory(t *testing.T) {
	dir, err := os.MkdirTemp("", "rawplane-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(dir, echo); err == nil || !strings.Contains(err.Error(), "not a private directory") {
		t.Fatalf("listen in a 0755 directory: %v", err)
	}
}

// A frame over the size limit is refused before anything is allocated.
func TestOversizedFrameIsRefused(t *testing.T) {
	plane := fakePlugin(t, func(c net.Conn) {
		c.Write(binary.BigEndian.AppendUint32(nil, MaxMessageBytes+1))
		c.Write([]byte{frameMsg})
		time.Sleep(time.Second)
	})
	s, err := Dial[pluginv1.WriteRequest, pluginv1.WriteResponse](context.Background(), plane, "Write")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("got %v", err)
	}
}

// A stream whose send failed (the plugin process is gone) is dropped by
// the core without being read to its end: its socket must be closed all
// the same, or every crash of an output leaks one per writer.
func TestFailedSendClosesTheConnection(t *testing.T) {
	dir, err := os.MkdirTemp("", "rawplane-test-") // t.TempDir's path can be too long for a socket
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close() // gone before the first message
		}
	}()
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		return len(ents)
	}
	before := fds()
	plane := &RawPlane{Socket: path}
	big := &pluginv1.WriteRequest{Seq: 1, Events: make([]byte, 1<<20)}
	for range 50 {
		s, err := Dial[pluginv1.WriteRequest, pluginv1.WriteResponse](context.Background(), plane, "Write")
		if err != nil {
			continue // refused at the hello: nothing open
		}
		for s.Send(big) == nil {
		}
	}
	if after := fds(); after > before+5 {
		t.Errorf("%d file descriptors open after 50 failed streams, %d before", after, before)
	}
}

// A goroutine a method leaves behind (an input's gauge reporter) may send
// after the method returned: it gets an error, and the core still reads
// whole frames and then the end (run with -race: the sends and the end
// frame share the connection's write buffers).
func TestSendAfterTheMethodReturned(t *testing.T) {
	late := make(chan error, 1)
	l := listen(t, func(method string, s *ServerConn) error {
		go func() {
			for {
				if err := s.SendMsg(&pluginv1.WriteResponse{Seq: 0}); err != nil {
					late <- err
					return
				}
			}
		}()
		time.Sleep(time.Millisecond)
		return nil
	})
	s, err := Dial[pluginv1.WriteRequest, pluginv1.WriteResponse](context.Background(), &l.Plane, "Write")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = s.Recv(); err != nil {
			break
		}
	}
	if err != io.EOF {
		t.Fatalf("the core read %v, want the stream's end", err)
	}
	select {
	case err := <-late:
		if status.Code(err) != codes.Canceled {
			t.Errorf("a send after the method returned: %v, want Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sends after the method returned still succeed")
	}
}
