// Package ohai gathers the automatic node attributes of the host, as
// Chef's ohai does: platform, hostname, addresses, CPU, memory and, on EC2,
// the instance's identity from IMDSv2.
package ohai

import (
	"bufio"
	"os"
	"strings"
)

// families maps os-release IDs to Chef's platform and platform_family.
var families = map[string][2]string{
	"debian": {"debian", "debian"}, "ubuntu": {"ubuntu", "debian"}, "raspbian": {"raspbian", "debian"},
	"amzn": {"amazon", "amazon"}, "rhel": {"redhat", "rhel"}, "centos": {"centos", "rhel"},
	"rocky": {"rocky", "rhel"}, "almalinux": {"almalinux", "rhel"}, "ol": {"oracle", "rhel"},
	"fedora": {"fedora", "fedora"}, "alpine": {"alpine", "alpine"}, "arch": {"arch", "arch"},
	"sles": {"suse", "suse"}, "opensuse-leap": {"opensuseleap", "suse"},
}

// Platform reads an os-release file (/etc/os-release) and returns Chef's
// platform, platform_family and platform_version. Unknown IDs fall back to
// ID_LIKE, then to the ID itself.
func Platform(osRelease string) (platform, family, version string) {
	f, err := os.Open(osRelease)
	if err != nil {
		return "unknown", "unknown", ""
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			kv[k] = strings.Trim(v, `"'`)
		}
	}
	id, version := kv["ID"], kv["VERSION_ID"]
	if pf, ok := families[id]; ok {
		return pf[0], pf[1], version
	}
	for _, like := range strings.Fields(kv["ID_LIKE"]) {
		if pf, ok := families[like]; ok {
			return id, pf[1], version
		}
	}
	return id, id, version
}
