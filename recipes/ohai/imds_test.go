package ohai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// The mock's defaults at v1.13.0: pkg/config/defaults/
// aemm-metadata-default-values.json in the module, checked against the
// running mock. Its identity document disagrees with its meta-data on
// purpose here (imageId, availabilityZone, privateIp), which shows each
// key is read from the right source.
var (
	mockEC2 = map[string]any{
		"ami_id":                         "ami-0a887e401f7654935",
		"ami_launch_index":               "0",
		"hostname":                       "ip-172-16-34-43.ec2.internal",
		"instance_id":                    "i-1234567890abcdef0",
		"instance_life_cycle":            "on-demand",
		"instance_type":                  "m4.xlarge",
		"local_hostname":                 "ip-172-16-34-43.ec2.internal",
		"local_ipv4":                     "172.16.34.43",
		"mac":                            "0e:49:61:0f:c3:11",
		"placement_availability_zone":    "us-east-1a",
		"placement_availability_zone_id": "use1-az4",
		"public_hostname":                "ec2-192-0-2-54.compute-1.amazonaws.com",
		"public_ipv4":                    "192.0.2.54",
		"reservation_id":                 "r-046cb3eca3e201d2f",
		"security_groups":                []any{"ura-launch-wizard-harry-1"},
		"account_id":                     "0123456789", // identity document
		"region":                         "us-east-1",  // identity document
		"architecture":                   "x86_64",     // identity document
	}
	mockCloud = map[string]any{
		"provider":          "ec2",
		"local_ipv4":        "172.16.34.43",
		"local_ipv4_addrs":  []any{"172.16.34.43"},
		"public_ipv4":       "192.0.2.54",
		"public_ipv4_addrs": []any{"192.0.2.54"},
		"local_hostname":    "ip-172-16-34-43.ec2.internal",
		"public_hostname":   "ec2-192-0-2-54.compute-1.amazonaws.com",
		"region":            "us-east-1",
		"availability_zone": "us-east-1a",
	}
)

// recordingTransport records the host of every request. With redirect
// set it sends the request there instead (so a test of the default
// endpoint never reaches 169.254.169.254); without, it refuses.
type recordingTransport struct {
	redirect string
	mu       sync.Mutex
	hosts    []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.hosts = append(rt.hosts, r.URL.Host)
	rt.mu.Unlock()
	if rt.redirect == "" {
		return nil, errors.New("test: no network expected")
	}
	u, _ := url.Parse(rt.redirect)
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host, r2.Host = u.Scheme, u.Host, ""
	return (&http.Transport{Proxy: nil, DisableKeepAlives: true}).RoundTrip(r2)
}

func (rt *recordingTransport) seen() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.hosts...)
}

// testOptions returns Options that read nothing host-specific that could
// reach the network: fixed hostname, fake DNS, empty environment, a sysfs
// with no EC2 evidence, and a logger into buf.
func testOptions(t testing.TB, buf *bytes.Buffer) Options {
	return Options{
		SysRoot: t.TempDir(), Hostname: "web1.example.com", Resolver: &fakeResolver{},
		Getenv: noEnv, Logger: slog.New(slog.NewTextHandler(buf, nil)),
	}
}

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func warnings(buf *bytes.Buffer) int { return strings.Count(buf.String(), "level=WARN") }

func TestCollectEC2FromMock(t *testing.T) {
	t.Parallel()
	base := mockURL(t)
	for _, how := range []string{"option", "env"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			o := testOptions(t, &logs)
			if how == "option" {
				o.IMDSEndpoint = base
			} else {
				o.Getenv = envMap(map[string]string{EnvIMDSEndpoint: base + "/"})
			}
			a := Collect(context.Background(), o)
			if !reflect.DeepEqual(a["ec2"], mockEC2) {
				t.Errorf("ec2 =\n%#v\nwant\n%#v", a["ec2"], mockEC2)
			}
			if !reflect.DeepEqual(a["cloud"], mockCloud) {
				t.Errorf("cloud =\n%#v\nwant\n%#v", a["cloud"], mockCloud)
			}
			if warnings(&logs) != 0 {
				t.Errorf("unexpected warnings:\n%s", logs.String())
			}
		})
	}
}

func TestCollectDMIDetectsEC2(t *testing.T) {
	t.Parallel()
	base := mockURL(t)
	tests := []struct {
		name, file, content string
		env                 map[string]string
		wantHost            string
	}{
		{"nitro vendor", "class/dmi/id/sys_vendor", "Amazon EC2\n", nil, "169.254.169.254"},
		{"asset tag", "class/dmi/id/board_asset_tag", "i-0123456789abcdef0\n", nil, "169.254.169.254"},
		{"xen uuid", "hypervisor/uuid", "ec2e1916-9099-7caf-fd21-012345abcdef\n", nil, "169.254.169.254"},
		{"ipv6 mode", "class/dmi/id/board_vendor", "Amazon EC2\n",
			map[string]string{EnvIMDSEndpointMode: "IPv6"}, "[fd00:ec2::254]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rt := &recordingTransport{redirect: base}
			o := testOptions(t, &logs)
			o.SysRoot = writeTree(t, map[string]string{tt.file: tt.content})
			o.Getenv = envMap(tt.env)
			o.HTTPClient = &http.Client{Transport: rt}
			a := Collect(context.Background(), o)
			if ec2, _ := a["ec2"].(map[string]any); ec2["instance_id"] != "i-1234567890abcdef0" {
				t.Fatalf("ec2 = %v; logs:\n%s", a["ec2"], logs.String())
			}
			for _, h := range rt.seen() {
				if h != tt.wantHost {
					t.Errorf("request to %s; want only %s", h, tt.wantHost)
				}
			}
		})
	}
}

// TestCollectOffEC2 shows that without EC2 evidence or an endpoint, or
// with IMDS disabled, Collect makes no request and sets no EC2 keys.
func TestCollectOffEC2(t *testing.T) {
	t.Parallel()
	notEC2 := map[string]string{
		"class/dmi/id/sys_vendor":      "QEMU\n",
		"class/dmi/id/board_vendor":    "\n",
		"class/dmi/id/product_uuid":    "4c4c4544-0042-3510-8052-b4c04f4e3432\n",
		"class/dmi/id/bios_version":    "1.16.2-debian-1.16.2-1\n",
		"class/dmi/id/board_asset_tag": "\n",
	}
	tests := []struct {
		name     string
		sys      map[string]string
		env      map[string]string
		endpoint string
	}{
		{"no dmi", nil, nil, ""},
		{"qemu", notEC2, nil, ""},
		{"disabled on ec2", map[string]string{"class/dmi/id/sys_vendor": "Amazon EC2\n"},
			map[string]string{EnvIMDSDisabled: "TRUE"}, ""},
		{"disabled beats endpoint", nil,
			map[string]string{EnvIMDSDisabled: "true", EnvIMDSEndpoint: "http://127.0.0.1:9"}, "http://127.0.0.1:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rt := &recordingTransport{}
			o := testOptions(t, &logs)
			o.SysRoot = writeTree(t, tt.sys)
			o.Getenv, o.IMDSEndpoint = envMap(tt.env), tt.endpoint
			o.HTTPClient = &http.Client{Transport: rt}
			a := Collect(context.Background(), o)
			if got := rt.seen(); len(got) != 0 {
				t.Errorf("made IMDS requests to %v", got)
			}
			for _, k := range []string{"ec2", "cloud"} {
				if _, ok := a[k]; ok {
					t.Errorf("%s set off EC2", k)
				}
			}
			if warnings(&logs) != 0 {
				t.Errorf("warned off EC2:\n%s", logs.String())
			}
		})
	}
}

// fakeIMDS is an IMDSv2-only server with the given meta-data paths; a
// request without the session token gets 401.
func fakeIMDS(t *testing.T, paths map[string]string) string {
	const token = "test-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/latest/api/token" {
			if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
				http.Error(w, "bad token request", http.StatusBadRequest)
				return
			}
			io.WriteString(w, token)
			return
		}
		if r.Header.Get("X-aws-ec2-metadata-token") != token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		v, ok := paths[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, v)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestIMDSMissingPathsLeftOut(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	o := testOptions(t, &logs)
	o.IMDSEndpoint = fakeIMDS(t, map[string]string{
		"/latest/meta-data/instance-id":              "i-0feedfacecafe0001",
		"/latest/meta-data/local-ipv4":               "10.1.2.3",
		"/latest/meta-data/security-groups":          "web\nssh\n",
		"/latest/dynamic/instance-identity/document": `{"accountId":"111122223333","region":"eu-west-3","instanceType":"t3.micro"}`,
	})
	a := Collect(context.Background(), o)
	wantEC2 := map[string]any{"instance_id": "i-0feedfacecafe0001", "local_ipv4": "10.1.2.3",
		"security_groups": []any{"web", "ssh"}, "account_id": "111122223333", "region": "eu-west-3",
		"instance_type": "t3.micro"}
	wantCloud := map[string]any{"provider": "ec2", "local_ipv4": "10.1.2.3",
		"local_ipv4_addrs": []any{"10.1.2.3"}, "region": "eu-west-3"}
	if !reflect.DeepEqual(a["ec2"], wantEC2) || !reflect.DeepEqual(a["cloud"], wantCloud) {
		t.Errorf("ec2 = %#v\ncloud = %#v\nlogs:\n%s", a["ec2"], a["cloud"], logs.String())
	}
}

// TestIMDSFailureLeavesKeysOut: whatever goes wrong, Collect returns the
// host facts without ec2 or cloud, and warns exactly once.
func TestIMDSFailureLeavesKeysOut(t *testing.T) {
	t.Parallel()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "IMDSv2 disabled", http.StatusForbidden)
	}))
	t.Cleanup(forbidden.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	tests := []struct{ name, endpoint string }{
		{"hangs", hang.URL},
		{"token forbidden", forbidden.URL},
		{"connection refused", closed},
		{"no instance-id", fakeIMDS(t, map[string]string{"/latest/meta-data/ami-id": "ami-1"})},
		{"bad identity document", fakeIMDS(t, map[string]string{
			"/latest/meta-data/instance-id":              "i-1",
			"/latest/dynamic/instance-identity/document": "{not json"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			o := testOptions(t, &logs)
			o.IMDSEndpoint, o.IMDSTimeout = tt.endpoint, 500*time.Millisecond
			a := Collect(context.Background(), o)
			for _, k := range []string{"ec2", "cloud"} {
				if _, ok := a[k]; ok {
					t.Errorf("%s set after IMDS failure", k)
				}
			}
			if a["platform"] == nil || a["hostname"] != "web1" {
				t.Errorf("host facts missing: %v", a)
			}
			if n := warnings(&logs); n != 1 {
				t.Errorf("%d warnings; want 1:\n%s", n, logs.String())
			}
		})
	}
}

func TestEC2Evidence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, content string
		ec2           bool
	}{
		{"class/dmi/id/sys_vendor", "Amazon EC2", true},
		{"class/dmi/id/board_vendor", "Amazon EC2", true},
		{"class/dmi/id/board_asset_tag", "i-0abc", true},
		{"class/dmi/id/product_uuid", "EC2E1916-9099-7CAF-FD21-012345ABCDEF", true},
		{"hypervisor/uuid", "ec2e1916-9099-7caf-fd21-012345abcdef", true},
		{"class/dmi/id/bios_version", "4.2.amazon", true},
		{"class/dmi/id/sys_vendor", "QEMU", false},
		{"class/dmi/id/board_asset_tag", "Not Specified", false},
		{"class/dmi/id/product_uuid", "4c4c4544-0042-3510-8052-b4c04f4e3432", false},
	}
	for _, tt := range tests {
		sys := writeTree(t, map[string]string{tt.file: tt.content + "\n"})
		if got := ec2Evidence(sys) != ""; got != tt.ec2 {
			t.Errorf("%s = %q: ec2 %v; want %v", tt.file, tt.content, got, tt.ec2)
		}
	}
}

// BenchmarkCollectOffEC2 measures a whole Collect on this host with the
// EC2 checks answering no.
func BenchmarkCollectOffEC2(b *testing.B) {
	var logs bytes.Buffer
	o := testOptions(b, &logs)
	rt := &recordingTransport{}
	o.HTTPClient = &http.Client{Transport: rt}
	for b.Loop() {
		Collect(context.Background(), o)
	}
	if len(rt.seen()) != 0 {
		b.Fatal("IMDS was asked off EC2")
	}
}

// TestMockIsIMDSv2Only guards the other mock tests: the mock refuses a
// request without a session token, so their passing shows Collect used
// IMDSv2.
func TestMockIsIMDSv2Only(t *testing.T) {
	t.Parallel()
	resp, err := http.Get(mockURL(t) + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("IMDSv1 GET = %s; want 401 Unauthorized", resp.Status)
	}
}
