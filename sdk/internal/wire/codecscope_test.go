package wire

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// The plugin connection's options carry the pooled codec: a batch
// received over a connection set up with them is read in place (its
// events alias the received buffer), without any global registration.
func TestConnectionOptionsReadInPlace(t *testing.T) {
	lis := bufconn.Listen(1 << 20)
	held := make(chan bool, 1)
	srv := grpc.NewServer(GRPCServerOptions()...)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "gostash.test.Scope",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{
			StreamName:    "Write",
			ClientStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				var m WriteRequest
				if err := stream.RecvMsg(&m); err != nil {
					return err
				}
				held <- m.buf != nil && string(m.Events) == "batch"
				m.Release()
				return stream.SendMsg(&pluginv1.WriteResponse{})
			},
		}},
	}, struct{}{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///bufnet", append(GRPCDialOptions(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, "/gostash.test.Scope/Write")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(&pluginv1.WriteRequest{Seq: 1, Events: []byte("batch")}); err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := stream.RecvMsg(&pluginv1.WriteResponse{}); err != nil {
		t.Fatal(err)
	}
	if !<-held {
		t.Fatal("the batch was copied by the stock codec, not read in place by the SDK's: the connection options lack the codec")
	}
}
