package ohai

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// goarchMachine maps GOARCH to uname's machine, for kernels without
// /proc/sys/kernel/arch.
var goarchMachine = map[string]string{
	"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l",
	"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
}

// kernelAttrs returns kernel {name, release, version, machine} from procfs.
func kernelAttrs(proc string) map[string]any {
	k := map[string]any{}
	set := func(key, v string) {
		if v != "" {
			k[key] = v
		}
	}
	set("name", readTrim(proc, "sys/kernel/ostype"))
	set("release", readTrim(proc, "sys/kernel/osrelease"))
	set("version", readTrim(proc, "sys/kernel/version"))
	machine := readTrim(proc, "sys/kernel/arch")
	if machine == "" {
		machine = goarchMachine[runtime.GOARCH]
	}
	set("machine", machine)
	return k
}

// hostAttrs sets hostname (short), fqdn and domain. The FQDN is the
// hostname if it has a dot, else the canonical name the hosts file gives
// it, else what DNS says within fqdnTimeout, else the short name.
func hostAttrs(ctx context.Context, o Options, a map[string]any) {
	name := o.Hostname
	if name == "" {
		name, _ = os.Hostname()
	}
	if name == "" {
		return
	}
	short, _, _ := strings.Cut(name, ".")
	fqdn := name
	if !strings.Contains(name, ".") {
		fqdn = hostsCanonical(o.HostsFile, short)
		if fqdn == "" {
			fqdn = lookupFQDN(ctx, o.Resolver, short)
		}
	}
	a["hostname"] = short
	a["fqdn"] = fqdn
	if _, domain, ok := strings.Cut(fqdn, "."); ok {
		a["domain"] = domain
	}
}

// hostsCanonical returns the canonical (first) name of the hosts-file
// line that names host, if that name has a dot, as gethostbyname does for
// `hostname --fqdn`.
func hostsCanonical(hostsFile, host string) string {
	f, err := os.Open(hostsFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, n := range fields[1:] {
			if strings.EqualFold(n, host) && strings.Contains(fields[1], ".") {
				return fields[1]
			}
		}
	}
	return ""
}

// lookupFQDN asks DNS for host's canonical name; host itself on failure.
func lookupFQDN(ctx context.Context, r Resolver, host string) string {
	ctx, cancel := context.WithTimeout(ctx, fqdnTimeout)
	defer cancel()
	cname, err := r.LookupCNAME(ctx, host)
	cname = strings.TrimSuffix(cname, ".")
	if err != nil || !strings.Contains(cname, ".") {
		return host
	}
	return cname
}

// cpuAttrs returns cpu {total, real, cores, model_name} from cpuinfo;
// total falls back to runtime.NumCPU().
func cpuAttrs(proc string) map[string]any {
	f, err := os.Open(filepath.Join(proc, "cpuinfo"))
	if err != nil {
		return map[string]any{"total": int64(runtime.NumCPU())}
	}
	defer f.Close()
	var total int64
	var model, physID string
	sockets, cores := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			total++
		case "model name":
			if model == "" {
				model = v
			}
		case "physical id":
			physID = v
			sockets[v] = true
		case "core id":
			cores[physID+"/"+v] = true
		}
	}
	if total == 0 {
		total = int64(runtime.NumCPU())
	}
	cpu := map[string]any{"total": total}
	if len(sockets) > 0 {
		cpu["real"] = int64(len(sockets))
	}
	if len(cores) > 0 {
		cpu["cores"] = int64(len(cores))
	}
	if model != "" {
		cpu["model_name"] = model
	}
	return cpu
}

// memoryAttrs returns memory {total: "NNNkB", total_bytes} from meminfo,
// or nil.
func memoryAttrs(proc string) map[string]any {
	f, err := os.Open(filepath.Join(proc, "meminfo"))
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return nil
		}
		return map[string]any{"total": strconv.FormatInt(kb, 10) + "kB", "total_bytes": kb * 1024}
	}
	return nil
}

// uptimeSeconds reads whole seconds since boot from /proc/uptime.
func uptimeSeconds(proc string) (int64, bool) {
	f := strings.Fields(readTrim(proc, "uptime"))
	if len(f) == 0 {
		return 0, false
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, false
	}
	return int64(s), true
}
