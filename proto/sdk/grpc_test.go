package sdk

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
)

// fake is a Provider recording what the server shim gave it.
type fake struct {
	got      chan *Resource
	blockCtx chan error // Load blocks until its context ends, then sends ctx.Err()
}

func (f *fake) Schema(context.Context) ([]Kind, error) {
	return []Kind{{Name: "thing", Doc: "a thing", Actions: []string{"create", "delete"}, DefaultAction: "create",
		Props: []Prop{
			{Name: "path", Type: String, NameProperty: true},
			{Name: "mode", Type: Mode, Default: "0644"},
			{Name: "tags", Type: StringList, Default: []string{"a", "b"}},
			{Name: "secret", Type: String, Sensitive: true},
			{Name: "size", Type: Int, Required: true},
			{Name: "how", Type: String, OneOf: []string{"x", "y"}},
		}}}, nil
}

func (f *fake) Load(ctx context.Context, r *Resource) (State, error) {
	if f.blockCtx != nil {
		<-ctx.Done()
		f.blockCtx <- ctx.Err()
		return nil, ctx.Err()
	}
	if r.Name == "boom" {
		panic("kaboom")
	}
	if r.Name == "bad" {
		return nil, errors.New("cannot read bad")
	}
	f.got <- r
	return State{"exists": "no"}, nil
}

func (f *fake) Test(_ context.Context, r *Resource, st State) ([]Change, error) {
	if st["exists"] == "no" {
		return []Change{{Desc: "create " + r.Str("path"), Diff: "+x"}}, nil
	}
	return nil, nil
}

func (f *fake) Apply(context.Context, *Resource, State) error { return nil }

func connect(t *testing.T, impl Provider) *Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &GRPCPlugin{Impl: impl}})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*Client)
}

func TestShimsRoundTrip(t *testing.T) {
	t.Parallel()
	f := &fake{got: make(chan *Resource, 1)}
	c := connect(t, f)
	ctx := t.Context()

	kinds, err := c.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.Schema(ctx)
	want[0].Props[2].Default = []any{"a", "b"} // lists come back as []any
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("schema:\n got %+v\nwant %+v", kinds, want)
	}

	r := &Resource{Kind: "thing", Name: "/srv/x", Action: "create", Root: "/tmp/root", WhyRun: true,
		Props: map[string]any{"path": "/srv/x", "size": int64(42), "tags": []string{"a"}, "m": map[string]any{"k": []any{int64(1), "v"}}},
		Set:   map[string]bool{"size": true}}
	st, err := c.Load(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	got := <-f.got
	if got.Str("path") != "/srv/x" || got.Int("size") != 42 || !reflect.DeepEqual(got.Strings("tags"), []string{"a"}) ||
		!got.IsSet("size") || got.IsSet("path") || !got.WhyRun || got.Root != "/tmp/root" || got.Log == nil ||
		got.Path("/srv/x") != "/tmp/root/srv/x" || got.Map("m")["k"].([]any)[1] != "v" {
		t.Fatalf("server saw %+v", got)
	}
	changes, err := c.Test(ctx, r, st)
	if err != nil || !reflect.DeepEqual(changes, []Change{{Desc: "create /srv/x", Diff: "+x"}}) {
		t.Fatalf("test = %v, %v", changes, err)
	}
	if err := c.Apply(ctx, r, st); err != nil {
		t.Fatal(err)
	}
}

func TestShimsErrorsAndPanics(t *testing.T) {
	t.Parallel()
	c := connect(t, &fake{got: make(chan *Resource, 1)})
	_, err := c.Load(t.Context(), &Resource{Kind: "thing", Name: "bad"})
	var ce *CallError
	if !errors.As(err, &ce) || ce.Op != "load" || err.Error() != "load: cannot read bad" {
		t.Fatalf("err = %v", err)
	}
	_, err = c.Load(t.Context(), &Resource{Kind: "thing", Name: "boom"})
	if !errors.As(err, &ce) || ce.Code != codes.Internal || !strings.Contains(err.Error(), "plugin panic: kaboom") {
		t.Fatalf("err = %v", err)
	}
	// The plugin survived its panic.
	if _, err := c.Schema(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(t.Context(), &Resource{Props: map[string]any{"f": func() {}}}); err == nil {
		t.Fatal("a func property was sent")
	}
}

func TestShimsCancellationReachesPlugin(t *testing.T) {
	t.Parallel()
	f := &fake{blockCtx: make(chan error, 1)}
	c := connect(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := c.Load(ctx, &Resource{Kind: "thing", Name: "x"}); done <- err }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-f.blockCtx:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("plugin saw %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancellation did not reach the plugin")
	}
	var ce *CallError
	if err := <-done; !errors.As(err, &ce) || ce.Code != codes.Canceled {
		t.Fatalf("client got %v", err)
	}

	dctx, dcancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer dcancel()
	if _, err := c.Load(dctx, &Resource{Kind: "thing", Name: "x"}); !errors.As(err, &ce) || ce.Code != codes.DeadlineExceeded {
		t.Fatalf("deadline: %v", err)
	}
	// The plugin sees its own copy of the deadline expire, or the
	// client's cancellation of the call, whichever comes first.
	if err := <-f.blockCtx; err == nil {
		t.Fatalf("plugin saw %v", err)
	}
}

func TestLoggerSpeaksGoPluginJSON(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	NewLogger(&b).Warn("careful", "bucket", "b")
	if got := b.String(); got != `{"@level":"warn","@message":"careful","bucket":"b"}`+"\n" {
		t.Fatalf("got %q", got)
	}
}
