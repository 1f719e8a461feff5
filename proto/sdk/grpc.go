package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	providerv1 "github.com/stackagent/stackagent/proto/provider/v1"
)

// GRPCPlugin is the go-plugin glue: on the plugin's side it serves Impl,
// on the agent's side it returns a *Client.
type GRPCPlugin struct {
	// Plugin is nil: stackagent plugins speak gRPC only, not net/rpc.
	plugin.Plugin
	Impl Provider
	// Log is given, tagged with the resource, to Impl's methods.
	Log *slog.Logger
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the server shim.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	providerv1.RegisterProviderServer(s, &server{impl: p.Impl, log: log})
	return nil
}

// GRPCClient returns the client shim.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

// server adapts a Provider to the gRPC service. It turns errors into
// statuses and a provider's panic into codes.Internal, so one bad
// resource does not take the plugin down.
type server struct {
	providerv1.UnimplementedProviderServer
	impl Provider
	log  *slog.Logger
}

func (s *server) Schema(ctx context.Context, _ *providerv1.SchemaRequest) (_ *providerv1.SchemaResponse, err error) {
	defer recoverTo(&err)
	kinds, err := s.impl.Schema(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	pks, err := KindsToPB(kinds)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &providerv1.SchemaResponse{Kinds: pks}, nil
}

func (s *server) Load(ctx context.Context, req *providerv1.LoadRequest) (_ *providerv1.LoadResponse, err error) {
	defer recoverTo(&err)
	st, err := s.impl.Load(ctx, s.resource(req.GetResource()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &providerv1.LoadResponse{State: stateToPB(st)}, nil
}

func (s *server) Test(ctx context.Context, req *providerv1.TestRequest) (_ *providerv1.TestResponse, err error) {
	defer recoverTo(&err)
	changes, err := s.impl.Test(ctx, s.resource(req.GetResource()), stateFromPB(req.GetState()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &providerv1.TestResponse{Changes: changesToPB(changes)}, nil
}

func (s *server) Apply(ctx context.Context, req *providerv1.ApplyRequest) (_ *providerv1.ApplyResponse, err error) {
	defer recoverTo(&err)
	if err := s.impl.Apply(ctx, s.resource(req.GetResource()), stateFromPB(req.GetState())); err != nil {
		return nil, toStatus(err)
	}
	return &providerv1.ApplyResponse{}, nil
}

func (s *server) resource(pr *providerv1.Resource) *Resource {
	r := resourceFromPB(pr)
	r.Log = s.log.With("resource", r.ID())
	return r
}

func toStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case err == context.Canceled:
		return status.Error(codes.Canceled, err.Error())
	case err == context.DeadlineExceeded:
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

func recoverTo(err *error) {
	if p := recover(); p != nil {
		*err = status.Errorf(codes.Internal, "plugin panic: %v\n%s", p, debug.Stack())
	}
}

// Client is the agent's side: a Provider whose methods are gRPC calls.
// The context of each call is the caller's, so its deadline and
// cancellation reach the plugin.
type Client struct {
	c providerv1.ProviderClient
}

var _ Provider = (*Client)(nil)

// NewClient returns a Provider talking to the plugin on conn.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{c: providerv1.NewProviderClient(conn)}
}

// Schema asks the plugin for its kinds.
func (c *Client) Schema(ctx context.Context) ([]Kind, error) {
	resp, err := c.c.Schema(ctx, &providerv1.SchemaRequest{})
	if err != nil {
		return nil, callError("schema", err)
	}
	return KindsFromPB(resp.GetKinds())
}

// Load asks the plugin for the current state of r.
func (c *Client) Load(ctx context.Context, r *Resource) (State, error) {
	pr, err := resourceToPB(r)
	if err != nil {
		return nil, err
	}
	resp, err := c.c.Load(ctx, &providerv1.LoadRequest{Resource: pr})
	if err != nil {
		return nil, callError("load", err)
	}
	return stateFromPB(resp.GetState()), nil
}

// Test asks the plugin for the changes r needs.
func (c *Client) Test(ctx context.Context, r *Resource, current State) ([]Change, error) {
	pr, err := resourceToPB(r)
	if err != nil {
		return nil, err
	}
	resp, err := c.c.Test(ctx, &providerv1.TestRequest{Resource: pr, State: stateToPB(current)})
	if err != nil {
		return nil, callError("test", err)
	}
	return changesFromPB(resp.GetChanges()), nil
}

// Apply asks the plugin to make the changes.
func (c *Client) Apply(ctx context.Context, r *Resource, current State) error {
	pr, err := resourceToPB(r)
	if err != nil {
		return err
	}
	_, err = c.c.Apply(ctx, &providerv1.ApplyRequest{Resource: pr, State: stateToPB(current)})
	if err != nil {
		return callError("apply", err)
	}
	return nil
}

// CallError is a failed call to a plugin: Op is schema, load, test or
// apply; Code the gRPC status code (codes.Unavailable when the plugin
// went away); Msg the plugin's message.
type CallError struct {
	Op   string
	Code codes.Code
	Msg  string
}

func (e *CallError) Error() string {
	if e.Code == codes.Unknown {
		return fmt.Sprintf("%s: %s", e.Op, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Code, e.Msg)
}

func callError(op string, err error) error {
	st, _ := status.FromError(err)
	return &CallError{Op: op, Code: st.Code(), Msg: st.Message()}
}
