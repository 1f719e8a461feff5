package ohai

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultOSRelease   = "/etc/os-release"
	DefaultProcRoot    = "/proc"
	DefaultSysRoot     = "/sys"
	DefaultHostsFile   = "/etc/hosts"
	DefaultIMDSTimeout = time.Second
	// imdsRequestTimeout bounds each IMDS request inside the total budget.
	imdsRequestTimeout = 300 * time.Millisecond
	// fqdnTimeout bounds the DNS lookup of the FQDN when /etc/hosts lacks it.
	fqdnTimeout = 200 * time.Millisecond
)

// Resolver finds a host's canonical name; *net.Resolver is one.
type Resolver interface {
	LookupCNAME(ctx context.Context, host string) (string, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Options says where Collect reads from. The zero value reads this host.
type Options struct {
	OSRelease string // os-release file; DefaultOSRelease if empty
	ProcRoot  string // procfs root; DefaultProcRoot if empty
	SysRoot   string // sysfs root (DMI, hypervisor); DefaultSysRoot if empty
	HostsFile string // hosts file for the FQDN; DefaultHostsFile if empty
	Hostname  string // the host's name; os.Hostname() if empty

	// IMDSEndpoint, if set (e.g. "http://127.0.0.1:1338"), makes Collect
	// query IMDS there whatever DMI says. AWS_EC2_METADATA_SERVICE_ENDPOINT
	// does the same; AWS_EC2_METADATA_DISABLED=true turns IMDS off.
	IMDSEndpoint string
	// IMDSTimeout is the budget for all IMDS requests; DefaultIMDSTimeout
	// if zero.
	IMDSTimeout time.Duration
	// HTTPClient makes the IMDS requests; if nil, a client that never uses
	// a proxy.
	HTTPClient *http.Client
	// Resolver looks up the FQDN when the hosts file lacks it;
	// net.DefaultResolver if nil.
	Resolver Resolver
	// Getenv reads the environment; os.Getenv if nil.
	Getenv func(string) string
	// Logger receives IMDS failures (once per Collect) and decisions at
	// debug level; discarded if nil.
	Logger *slog.Logger
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.OSRelease, DefaultOSRelease)
	def(&o.ProcRoot, DefaultProcRoot)
	def(&o.SysRoot, DefaultSysRoot)
	def(&o.HostsFile, DefaultHostsFile)
	if o.IMDSTimeout <= 0 {
		o.IMDSTimeout = DefaultIMDSTimeout
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Collect gathers the automatic attributes of this host, with the keys
// and shapes ohai uses (see docs/attributes.md). It never fails: a fact
// that cannot be read is left out, and IMDS is asked only on EC2 (or at an
// endpoint set explicitly), within o.IMDSTimeout.
func Collect(ctx context.Context, o Options) map[string]any {
	o = o.withDefaults()
	a := map[string]any{"os": runtime.GOOS}

	a["platform"], a["platform_family"], a["platform_version"] = Platform(o.OSRelease)
	a["kernel"] = kernelAttrs(o.ProcRoot)
	hostAttrs(ctx, o, a)
	networkAttrs(o.ProcRoot, a)
	if cpu := cpuAttrs(o.ProcRoot); cpu != nil {
		a["cpu"] = cpu
	}
	if mem := memoryAttrs(o.ProcRoot); mem != nil {
		a["memory"] = mem
	}
	if up, ok := uptimeSeconds(o.ProcRoot); ok {
		a["uptime_seconds"] = up
	}

	endpoint, query := imdsEndpoint(o)
	if !query {
		return a
	}
	ec2, err := fetchEC2(ctx, o, endpoint)
	if err != nil {
		o.Logger.Warn("ohai: ec2 metadata unavailable, leaving out ec2 attributes",
			"endpoint", endpoint, "err", err)
		return a
	}
	a["ec2"] = ec2
	a["cloud"] = cloudAttrs(ec2)
	return a
}

// readTrim reads a small file and trims surrounding space; "" on error.
func readTrim(path ...string) string {
	b, err := os.ReadFile(filepath.Join(path...))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
