package ohai

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stackagent/stackagent/internal/testutil"
)

// writeTree writes files (path → content) under a new temporary root.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	testutil.WriteTree(t, root, files)
	return root
}

// fakeResolver answers LookupCNAME from a map and counts its calls.
type fakeResolver struct {
	names map[string]string
	calls int
}

func (r *fakeResolver) LookupCNAME(_ context.Context, host string) (string, error) {
	r.calls++
	if n, ok := r.names[host]; ok {
		return n, nil
	}
	return "", errors.New("no such host")
}

var procFixture = map[string]string{
	"cpuinfo": "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\nphysical id\t: 0\ncore id\t\t: 0\n\n" +
		"processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\nphysical id\t: 0\ncore id\t\t: 1\n\n" +
		"processor\t: 2\nmodel name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\nphysical id\t: 1\ncore id\t\t: 0\n\n" +
		"processor\t: 3\nmodel name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\nphysical id\t: 1\ncore id\t\t: 0\n",
	"meminfo":              "MemTotal:       16384000 kB\nMemFree:         1234567 kB\n",
	"uptime":               "12345.67 23456.78\n",
	"sys/kernel/ostype":    "Linux\n",
	"sys/kernel/osrelease": "6.1.0-18-cloud-amd64\n",
	"sys/kernel/version":   "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n",
	"sys/kernel/arch":      "x86_64\n",
	"net/route": "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth1\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
		"eth0\t00000000\t01221FAC\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
		"eth0\t00201FAC\t00000000\t0001\t0\t0\t100\t00F0FFFF\t0\t0\t0\n",
}

func TestCollectFromProcFixture(t *testing.T) {
	t.Parallel()
	proc := writeTree(t, procFixture)
	a := Collect(context.Background(), Options{
		OSRelease: "testdata/os-release/ubuntu", ProcRoot: proc, SysRoot: t.TempDir(),
		Hostname: "web1.example.com", Resolver: &fakeResolver{}, Getenv: noEnv,
	})
	want := map[string]any{
		"platform": "ubuntu", "platform_family": "debian", "platform_version": "22.04", "os": "linux",
		"kernel": map[string]any{"name": "Linux", "release": "6.1.0-18-cloud-amd64",
			"version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "machine": "x86_64"},
		"hostname": "web1", "fqdn": "web1.example.com", "domain": "example.com",
		"cpu": map[string]any{"total": int64(4), "real": int64(2), "cores": int64(3),
			"model_name": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"},
		"memory":         map[string]any{"total": "16384000kB", "total_bytes": int64(16384000 * 1024)},
		"uptime_seconds": int64(12345),
	}
	for k, v := range want {
		if !reflect.DeepEqual(a[k], v) {
			t.Errorf("%s = %#v; want %#v", k, a[k], v)
		}
	}
	network, _ := a["network"].(map[string]any)
	if network["default_interface"] != "eth0" || network["default_gateway"] != "172.31.34.1" {
		t.Errorf("default route = %v via %v; want eth0 via 172.31.34.1",
			network["default_interface"], network["default_gateway"])
	}
	for _, k := range []string{"ec2", "cloud"} {
		if _, ok := a[k]; ok {
			t.Errorf("%s present off EC2", k)
		}
	}
}

func TestHostname(t *testing.T) {
	t.Parallel()
	hosts := writeTree(t, map[string]string{"hosts": "127.0.0.1 localhost\n" +
		"# 10.0.0.9 web1.wrong.example web1\n127.0.1.1\tweb1.example.com web1 # debian style\n"})
	hostsFile := filepath.Join(hosts, "hosts")
	tests := []struct {
		name, hostname, fqdn, domain string
		dnsCalls                     int
	}{
		{"web1", "web1", "web1.example.com", "example.com", 0},                                           // from the hosts file
		{"ip-172-31-1-2.ec2.internal", "ip-172-31-1-2", "ip-172-31-1-2.ec2.internal", "ec2.internal", 0}, // dotted
		{"ip-10-0-0-5", "ip-10-0-0-5", "ip-10-0-0-5.eu-west-1.compute.internal", "eu-west-1.compute.internal", 1},
		{"lonely", "lonely", "lonely", "", 1}, // DNS fails: short name, no domain
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &fakeResolver{names: map[string]string{"ip-10-0-0-5": "ip-10-0-0-5.eu-west-1.compute.internal."}}
			a := map[string]any{}
			hostAttrs(context.Background(), Options{Hostname: tt.name, HostsFile: hostsFile, Resolver: r}, a)
			if a["hostname"] != tt.hostname || a["fqdn"] != tt.fqdn {
				t.Errorf("hostname, fqdn = %v, %v; want %v, %v", a["hostname"], a["fqdn"], tt.hostname, tt.fqdn)
			}
			if d, ok := a["domain"]; (tt.domain == "" && ok) || (tt.domain != "" && d != tt.domain) {
				t.Errorf("domain = %v (set %v); want %q", d, ok, tt.domain)
			}
			if r.calls != tt.dnsCalls {
				t.Errorf("DNS lookups = %d; want %d", r.calls, tt.dnsCalls)
			}
		})
	}
}

func TestBuildNetwork(t *testing.T) {
	t.Parallel()
	ifs := []iface{
		{Name: "lo", Loopback: true, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "docker0", MAC: "02:42:ac:11:00:01", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("172.17.0.1/16")}},
		{Name: "ens5", MAC: "0e:49:61:0f:c3:11", Up: true, Addrs: []netip.Prefix{
			netip.MustParsePrefix("fe80::c49:61ff:fe0f:c311/64"), netip.MustParsePrefix("172.31.34.43/20")}},
	}
	t.Run("default route", func(t *testing.T) {
		a := map[string]any{}
		buildNetwork(ifs, "ens5", "172.31.32.1", a)
		if a["ipaddress"] != "172.31.34.43" || a["macaddress"] != "0E:49:61:0F:C3:11" {
			t.Errorf("ipaddress, macaddress = %v, %v", a["ipaddress"], a["macaddress"])
		}
		ens5 := a["network"].(map[string]any)["interfaces"].(map[string]any)["ens5"]
		want := map[string]any{"state": "up", "addresses": map[string]any{
			"172.31.34.43":             map[string]any{"family": "inet", "prefixlen": "20"},
			"fe80::c49:61ff:fe0f:c311": map[string]any{"family": "inet6", "prefixlen": "64"},
			"0E:49:61:0F:C3:11":        map[string]any{"family": "lladdr"},
		}}
		if !reflect.DeepEqual(ens5, want) {
			t.Errorf("interfaces.ens5 = %#v; want %#v", ens5, want)
		}
	})
	t.Run("no default route", func(t *testing.T) {
		a := map[string]any{}
		buildNetwork(ifs, "", "", a)
		if a["ipaddress"] != "172.17.0.1" { // first non-loopback interface
			t.Errorf("ipaddress = %v; want 172.17.0.1", a["ipaddress"])
		}
		if _, ok := a["network"].(map[string]any)["default_interface"]; ok {
			t.Error("default_interface set without a default route")
		}
	})
}

func noEnv(string) string { return "" }
