package wire

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The data plane: the streams Read, Process and Write carried over a Unix
// socket as length-prefixed frames of the same messages, beside the gRPC
// connection that stays the control plane. gRPC spent most of a batch's
// crossing on HTTP/2 framing and assembling each message; here a message
// is one writev (its batch bytes written from where they are) and one
// read into a pooled buffer, which the messages read in place (held.go)
// alias as they alias gRPC's. plugin.proto's DataPlane describes the
// frames.

const (
	frameHello byte = 0 // the core's first frame: token and method
	frameMsg   byte = 1 // one message
	frameEnd   byte = 2 // the end of the sender's messages, with a status from the plugin

	frameHeader = 5 // 4-byte big-endian payload length, 1-byte kind

	// helloTimeout bounds how long a connection may take to say what it is.
	helloTimeout = 10 * time.Second
)

// rawConn is one side of a data plane connection: one goroutine reads it
// and one writes it at a time.
type rawConn struct {
	c *net.UnixConn
	r *bufio.Reader

	hdr     [frameHeader]byte // read side
	scratch []byte            // write side: header and message, without its batch bytes
	iov     [2][]byte
	bufs    net.Buffers // over iov, for one writev
}

func newRawConn(c *net.UnixConn) *rawConn {
	// Room in the socket for the batches in flight: with the default
	// (208 KiB, under two batches of 500 log lines) a plugin's write
	// waited until the other process was scheduled to read, and on a
	// busy box that was often; the kafka input's partitions then waited
	// on each other's writes. The kernel caps this at net.core.wmem_max.
	_ = c.SetWriteBuffer(socketBuffer)
	_ = c.SetReadBuffer(socketBuffer)
	return &rawConn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// socketBuffer is the send and receive buffer asked for each data plane
// socket. Credits bound what is in flight, so this is room, not growth.
const socketBuffer = 4 << 20

// writeMsg writes m as one frame. The batch bytes it carries are written
// from where they are, in the same writev.
func (c *rawConn) writeMsg(m any) error {
	head, batch, err := appendMessage(append(c.scratch[:0], make([]byte, frameHeader)...), m)
	if cap(head) <= 1<<20 { // keep the scratch, unless a rare huge message grew it
		c.scratch = head[:0]
	}
	if err != nil {
		return err
	}
	return c.write(frameMsg, head, batch)
}

// writeFrame writes a frame of the given kind and payload.
func (c *rawConn) writeFrame(kind byte, payload []byte) error {
	head := append(append(c.scratch[:0], make([]byte, frameHeader)...), payload...)
	c.scratch = head[:0]
	return c.write(kind, head, nil)
}

// write sends head (frameHeader bytes of room, then the start of the
// payload) and tail, the rest of the payload.
func (c *rawConn) write(kind byte, head, tail []byte) error {
	n := len(head) - frameHeader + len(tail)
	if n > MaxMessageBytes {
		return status.Errorf(codes.ResourceExhausted, "data plane: a message of %d bytes is over the limit of %d", n, MaxMessageBytes)
	}
	binary.BigEndian.PutUint32(head, uint32(n))
	head[4] = kind
	if len(tail) == 0 {
		_, err := c.c.Write(head)
		return err
	}
	c.iov[0], c.iov[1] = head, tail
	c.bufs = c.iov[:] // WriteTo consumes the slice, not the array
	_, err := c.bufs.WriteTo(c.c)
	c.iov[0], c.iov[1] = nil, nil
	return err
}

// readFrame reads the next frame into a buffer of the pool, which the
// caller owns. It returns io.EOF at a frame's boundary when the peer has
// closed the connection, io.ErrUnexpectedEOF inside a frame.
func (c *rawConn) readFrame() (byte, *[]byte, error) {
	if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(c.hdr[:4])
	if n > MaxMessageBytes {
		return 0, nil, fmt.Errorf("data plane: a frame of %d bytes is over the limit of %d", n, MaxMessageBytes)
	}
	buf := batchBuffers.Get(int(n))
	if _, err := io.ReadFull(c.r, *buf); err != nil {
		batchBuffers.Put(buf)
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return c.hdr[4], buf, nil
}

// decodeInto reads a received message into m and gives buf back, or hands
// it to m when m reads its batch in place.
func decodeInto(buf *[]byte, m any) error {
	if a, ok := m.(aliasing); ok {
		if err := a.unmarshalAliased(*buf); err != nil {
			batchBuffers.Put(buf)
			return status.Errorf(codes.Internal, "data plane: %v", err)
		}
		a.hold(mem.NewBuffer(buf, batchBuffers))
		return nil
	}
	pm, ok := m.(proto.Message)
	if !ok {
		batchBuffers.Put(buf)
		return fmt.Errorf("data plane: cannot unmarshal into %T", m)
	}
	// proto.Unmarshal copies bytes fields: the buffer is free again.
	err := proto.Unmarshal(*buf, pm)
	batchBuffers.Put(buf)
	if err != nil {
		return status.Errorf(codes.Internal, "data plane: %v", err)
	}
	return nil
}

// appendMessage appends m's encoding to dst, except for the batch bytes of
// a message that carries a batch: those are returned apart, and the
// encoding ends with their tag and length, so that head and batch written
// one after the other are the whole message.
func appendMessage(dst []byte, m any) (head, batch []byte, err error) {
	switch m := m.(type) {
	case *pluginv1.ProcessRequest:
		return appendSplit(dst, m, &m.Events, 3)
	case *pluginv1.ProcessResponse:
		return appendSplit(dst, m, &m.Events, 2)
	case *pluginv1.WriteRequest:
		return appendSplit(dst, m, &m.Events, 3)
	case *pluginv1.InputMessage:
		if b := m.GetBatch(); b != nil && len(b.Events) > 0 {
			// InputMessage{batch: SourceBatch{...}}: the batch is the
			// last bytes of the nested message, so of the whole.
			events := b.Events
			b.Events = nil
			size := proto.Size(b) + protowire.SizeTag(2) + protowire.SizeBytes(len(events))
			dst = protowire.AppendTag(dst, 1, protowire.BytesType)
			dst = protowire.AppendVarint(dst, uint64(size))
			dst, err = proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(dst, b)
			b.Events = events
			dst = protowire.AppendTag(dst, 2, protowire.BytesType)
			dst = protowire.AppendVarint(dst, uint64(len(events)))
			return dst, events, err
		}
	}
	pm, ok := m.(proto.Message)
	if !ok {
		return dst, nil, fmt.Errorf("data plane: cannot marshal %T", m)
	}
	dst, err = proto.MarshalOptions{}.MarshalAppend(dst, pm)
	return dst, nil, err
}

// appendSplit encodes m without its batch field (*events, number num),
// then that field's tag and length.
func appendSplit(dst []byte, m proto.Message, events *[]byte, num protowire.Number) ([]byte, []byte, error) {
	batch := *events
	if len(batch) == 0 {
		dst, err := proto.MarshalOptions{}.MarshalAppend(dst, m)
		return dst, nil, err
	}
	*events = nil
	dst, err := proto.MarshalOptions{}.MarshalAppend(dst, m)
	*events = batch
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(len(batch)))
	return dst, batch, err
}

// endPayload is the plugin's last frame for a method that returned err.
func endPayload(err error) []byte {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	return append([]byte{byte(st.Code())}, st.Message()...)
}

// endError is what the core's RecvMsg returns for the plugin's last frame:
// io.EOF when the method returned, its error as gRPC would carry it else.
func endError(payload []byte) error {
	if len(payload) == 0 {
		return io.EOF
	}
	return status.Error(codes.Code(payload[0]), string(payload[1:]))
}

// ---- the core's side ---------------------------------------------------------

// RawPlane is a plugin process's data plane as its Open answered.
type RawPlane struct {
	Socket string
	Token  []byte
}

// ClientStream is a stream of the data plane on the core's side; it
// implements the gRPC client stream the generated code declares, so the
// core uses either the same way.
type ClientStream[Req, Res any] struct {
	ctx  context.Context
	conn *rawConn
	stop func() bool // ends the watch on ctx
	err  error       // what RecvMsg returns from now on
}

var _ grpc.BidiStreamingClient[pluginv1.WriteRequest, pluginv1.WriteResponse] = (*ClientStream[pluginv1.WriteRequest, pluginv1.WriteResponse])(nil)

// Dial opens a stream of method ("Read", "Process", "Write") over the
// data plane. Cancelling ctx ends the stream, as it ends a gRPC stream.
func Dial[Req, Res any](ctx context.Context, plane *RawPlane, method string) (*ClientStream[Req, Res], error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", plane.Socket)
	if err != nil {
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, status.Errorf(codes.Unavailable, "data plane: %v", err)
	}
	conn := newRawConn(c.(*net.UnixConn))
	hello := append(append([]byte{byte(len(plane.Token))}, plane.Token...), method...)
	if err := conn.writeFrame(frameHello, hello); err != nil {
		_ = c.Close()
		return nil, status.Errorf(codes.Unavailable, "data plane: %v", err)
	}
	s := &ClientStream[Req, Res]{ctx: ctx, conn: conn}
	s.stop = context.AfterFunc(ctx, func() { _ = c.Close() })
	return s, nil
}

// broken is the error for a connection that failed: the stream's
// cancellation, or the plugin process gone.
func (s *ClientStream[Req, Res]) broken(err error) error {
	if s.ctx.Err() != nil {
		return status.FromContextError(s.ctx.Err()).Err()
	}
	if errors.Is(err, io.EOF) {
		return status.Error(codes.Unavailable, "data plane: the plugin process closed the connection without ending the stream (it exited or crashed)")
	}
	return status.Errorf(codes.Unavailable, "data plane: %v", err)
}

// SendMsg sends one message. A stream whose send failed is dropped by
// its caller, which never reads it to its end: the connection is closed
// here (a RecvMsg waiting on it then fails), or it would stay open until
// the stream's context ends, a socket per failed send.
func (s *ClientStream[Req, Res]) SendMsg(m any) error {
	if err := s.conn.writeMsg(m); err != nil {
		s.stop()
		_ = s.conn.c.Close()
		if _, ok := status.FromError(err); ok {
			return err
		}
		return s.broken(err)
	}
	return nil
}

// Send sends one message.
func (s *ClientStream[Req, Res]) Send(m *Req) error { return s.SendMsg(m) }

// RecvMsg reads the next message into m. It returns io.EOF when the
// plugin's method returned, the method's error when it failed.
func (s *ClientStream[Req, Res]) RecvMsg(m any) error {
	if s.err != nil {
		return s.err
	}
	kind, buf, err := s.conn.readFrame()
	if err != nil {
		return s.end(s.broken(err))
	}
	switch kind {
	case frameMsg:
		if err := decodeInto(buf, m); err != nil {
			return s.end(err)
		}
		return nil
	case frameEnd:
		err := endError(*buf)
		batchBuffers.Put(buf)
		return s.end(err)
	default:
		batchBuffers.Put(buf)
		return s.end(status.Errorf(codes.Internal, "data plane: a frame of unknown kind %d", kind))
	}
}

// end closes the connection: the stream is over either way.
func (s *ClientStream[Req, Res]) end(err error) error {
	s.err = err
	s.stop()
	_ = s.conn.c.Close()
	return err
}

// Recv reads the next message.
func (s *ClientStream[Req, Res]) Recv() (*Res, error) {
	m := new(Res)
	if err := s.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

// CloseSend tells the plugin the core sends nothing more; the plugin's
// method then sees io.EOF, and can still answer.
func (s *ClientStream[Req, Res]) CloseSend() error {
	if err := s.conn.writeFrame(frameEnd, nil); err != nil {
		return s.broken(err)
	}
	return nil
}

// Context returns the stream's context.
func (s *ClientStream[Req, Res]) Context() context.Context { return s.ctx }

// Header returns no metadata: the data plane carries none.
func (s *ClientStream[Req, Res]) Header() (metadata.MD, error) { return nil, nil }

// Trailer returns no metadata.
func (s *ClientStream[Req, Res]) Trailer() metadata.MD { return nil }

// ---- the plugin's side -------------------------------------------------------

// RawHandler runs a method on a connection and returns its result, which
// ends the stream.
type RawHandler func(method string, s *ServerConn) error

// RawListener accepts the core's data plane connections.
type RawListener struct {
	Plane RawPlane
	l     *net.UnixListener
}

// Listen listens for the data plane in dir, which must be the calling
// user's and private to it. Connections that do not begin with the token
// are refused.
func Listen(dir string, handle RawHandler) (*RawListener, error) {
	if err := checkPrivate(dir); err != nil {
		return nil, err
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("data-%d.sock", os.Getpid()))
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	rl := &RawListener{Plane: RawPlane{Socket: path, Token: token}, l: l}
	go rl.serve(handle)
	return rl, nil
}

// checkPrivate refuses a directory other users could reach.
func checkPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("data plane directory %s is not a private directory (mode %v)", dir, fi.Mode())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("data plane directory %s belongs to uid %d, not to this process's %d", dir, st.Uid, os.Getuid())
	}
	return nil
}

// Close stops accepting connections; open streams go on.
func (rl *RawListener) Close() error { return rl.l.Close() }

func (rl *RawListener) serve(handle RawHandler) {
	for {
		c, err := rl.l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of descriptors: let some close
			continue
		}
		go rl.serveConn(c, handle)
	}
}

func (rl *RawListener) serveConn(c *net.UnixConn, handle RawHandler) {
	defer c.Close()
	conn := newRawConn(c)
	_ = c.SetReadDeadline(time.Now().Add(helloTimeout))
	kind, buf, err := conn.readFrame()
	if err != nil {
		return
	}
	hello := *buf
	defer batchBuffers.Put(buf)
	_ = c.SetReadDeadline(time.Time{})
	if kind != frameHello || len(hello) == 0 || len(hello) < 1+int(hello[0]) ||
		subtle.ConstantTimeCompare(hello[1:1+int(hello[0])], rl.Plane.Token) != 1 {
		_ = conn.writeFrame(frameEnd, endPayload(status.Error(codes.PermissionDenied, "data plane: this connection did not present the token the core was given")))
		return
	}
	method := string(hello[1+int(hello[0]):])
	s := newServerConn(conn)
	err = handle(method, s)
	s.cancel()
	s.wmu.Lock()
	s.done = true
	_ = conn.writeFrame(frameEnd, endPayload(err))
	s.wmu.Unlock()
}

// ServerConn is a stream of the data plane on the plugin's side. A
// goroutine reads ahead, so that the stream's context ends as soon as the
// core closes the connection (a cancelled stream, or a core gone), even
// while the method is busy, as a gRPC stream's does.
type ServerConn struct {
	conn   *rawConn
	ctx    context.Context
	cancel context.CancelFunc
	frames chan *[]byte // messages read ahead; nil: the core's end
	err    error        // why frames was closed; set before
	ended  bool         // RecvMsg returned io.EOF

	// wmu orders the method's sends and the end frame: a goroutine the
	// method left behind (an input's gauges) may still send, and gets an
	// error once the stream has ended, as on gRPC.
	wmu  sync.Mutex
	done bool
}

func newServerConn(conn *rawConn) *ServerConn {
	ctx, cancel := context.WithCancel(context.Background())
	s := &ServerConn{conn: conn, ctx: ctx, cancel: cancel, frames: make(chan *[]byte, 16)}
	go s.readAhead()
	return s
}

func (s *ServerConn) readAhead() {
	defer close(s.frames)
	for {
		kind, buf, err := s.conn.readFrame()
		if err != nil {
			// The core closed the connection (after its end, when the
			// stream is done or cancelled) or it broke: the stream's
			// context ends, as gRPC ends it.
			s.err = status.FromContextError(context.Canceled).Err()
			if !errors.Is(err, io.EOF) {
				s.err = status.Errorf(codes.Unavailable, "data plane: %v", err)
			}
			s.cancel()
			return
		}
		switch kind {
		case frameMsg:
		case frameEnd:
			batchBuffers.Put(buf)
			buf = nil
		default:
			batchBuffers.Put(buf)
			s.err = status.Errorf(codes.Internal, "data plane: a frame of unknown kind %d", kind)
			s.cancel()
			return
		}
		select {
		case s.frames <- buf:
		case <-s.ctx.Done():
			if buf != nil {
				batchBuffers.Put(buf)
			}
			s.err = status.FromContextError(context.Canceled).Err()
			return
		}
	}
}

// RecvMsg reads the next message into m; io.EOF when the core called
// CloseSend.
func (s *ServerConn) RecvMsg(m any) error {
	if s.ended {
		return io.EOF
	}
	buf, ok := <-s.frames
	if !ok {
		return s.err
	}
	if buf == nil {
		s.ended = true
		return io.EOF
	}
	return decodeInto(buf, m)
}

// SendMsg sends one message.
func (s *ServerConn) SendMsg(m any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.done {
		return status.Error(codes.Canceled, "data plane: the stream's method has returned")
	}
	if err := s.conn.writeMsg(m); err != nil {
		if s.ctx.Err() != nil {
			return status.FromContextError(s.ctx.Err()).Err()
		}
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Errorf(codes.Unavailable, "data plane: %v", err)
	}
	return nil
}

// Context ends when the core closes the connection or the method returns.
func (s *ServerConn) Context() context.Context { return s.ctx }

// SetHeader, SendHeader and SetTrailer do nothing: the data plane carries
// no metadata.
func (s *ServerConn) SetHeader(metadata.MD) error  { return nil }
func (s *ServerConn) SendHeader(metadata.MD) error { return nil }
func (s *ServerConn) SetTrailer(metadata.MD)       {}

// ServerStream is a ServerConn typed as the generated server stream of a
// method, which the method's implementation takes.
type ServerStream[Req, Res any] struct{ *ServerConn }

var _ grpc.BidiStreamingServer[pluginv1.WriteRequest, pluginv1.WriteResponse] = ServerStream[pluginv1.WriteRequest, pluginv1.WriteResponse]{}

// Recv reads the next message.
func (s ServerStream[Req, Res]) Recv() (*Req, error) {
	m := new(Req)
	if err := s.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Send sends one message.
func (s ServerStream[Req, Res]) Send(m *Res) error { return s.SendMsg(m) }

// ---- the core's client ------------------------------------------------------

// RawPlaneClient is a plugin's gRPC client whose streams go over its data
// plane; the unary calls stay on gRPC.
type RawPlaneClient struct {
	pluginv1.PluginClient
	Plane *RawPlane
}

// Socket is the data plane's socket.
func (c RawPlaneClient) Socket() string { return c.Plane.Socket }

// Read, Process and Write open the stream over the data plane.
func (c RawPlaneClient) Read(ctx context.Context, _ ...grpc.CallOption) (grpc.BidiStreamingClient[pluginv1.InputControl, pluginv1.InputMessage], error) {
	return Dial[pluginv1.InputControl, pluginv1.InputMessage](ctx, c.Plane, "Read")
}

func (c RawPlaneClient) Process(ctx context.Context, _ ...grpc.CallOption) (grpc.BidiStreamingClient[pluginv1.ProcessRequest, pluginv1.ProcessResponse], error) {
	return Dial[pluginv1.ProcessRequest, pluginv1.ProcessResponse](ctx, c.Plane, "Process")
}

func (c RawPlaneClient) Write(ctx context.Context, _ ...grpc.CallOption) (grpc.BidiStreamingClient[pluginv1.WriteRequest, pluginv1.WriteResponse], error) {
	return Dial[pluginv1.WriteRequest, pluginv1.WriteResponse](ctx, c.Plane, "Write")
}
