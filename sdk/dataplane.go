package sdk

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gostash/gostash/sdk/internal/wire"
	pluginv1 "github.com/gostash/gostash/sdk/proto/v1"
)

// dataPlane listens for the data plane in dir, the first time the core
// offers one, and returns where: the core then runs the streams Read,
// Process and Write over it instead of gRPC. nil (no dir offered, or the
// listen failed) leaves the core on gRPC.
func (s *server) dataPlane(dir string) *pluginv1.DataPlane {
	if dir == "" {
		return nil
	}
	s.planeOnce.Do(func() {
		l, err := wire.Listen(dir, s.serveRaw)
		if err != nil {
			s.logger.Warn("cannot listen for the data plane; the streams stay on gRPC", "error", err)
			return
		}
		s.plane = &pluginv1.DataPlane{UnixSocket: l.Plane.Socket, Token: l.Plane.Token}
	})
	return s.plane
}

// serveRaw runs a data plane connection's method: the same code as the
// gRPC streams, over the connection.
func (s *server) serveRaw(method string, c *wire.ServerConn) error {
	switch method {
	case "Read":
		return s.Read(wire.ServerStream[pluginv1.InputControl, pluginv1.InputMessage]{ServerConn: c})
	case "Process":
		return s.Process(wire.ServerStream[pluginv1.ProcessRequest, pluginv1.ProcessResponse]{ServerConn: c})
	case "Write":
		return s.Write(wire.ServerStream[pluginv1.WriteRequest, pluginv1.WriteResponse]{ServerConn: c})
	}
	return status.Errorf(codes.Unimplemented, "data plane: no method %q", method)
}
