package ohai

import (
	"strings"
)

// IMDS endpoints and the environment variables the AWS SDKs honour.
const (
	imdsEndpointIPv4 = "http://169.254.169.254"
	imdsEndpointIPv6 = "http://[fd00:ec2::254]"

	EnvIMDSDisabled     = "AWS_EC2_METADATA_DISABLED"
	EnvIMDSEndpoint     = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
	EnvIMDSEndpointMode = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
)

// imdsEndpoint decides, without touching the network, whether to ask
// IMDS and where. AWS_EC2_METADATA_DISABLED=true wins over everything;
// then an explicit endpoint (o.IMDSEndpoint, then the environment) is
// always asked; otherwise IMDS is asked only when DMI or the hypervisor
// says this is EC2.
func imdsEndpoint(o Options) (endpoint string, query bool) {
	log := o.Logger.With("component", "ohai")
	if strings.EqualFold(strings.TrimSpace(o.Getenv(EnvIMDSDisabled)), "true") {
		log.Debug("imds disabled by environment", "env", EnvIMDSDisabled)
		return "", false
	}
	for _, e := range []string{o.IMDSEndpoint, o.Getenv(EnvIMDSEndpoint)} {
		if e = strings.TrimRight(strings.TrimSpace(e), "/"); e != "" {
			return e, true
		}
	}
	why := ec2Evidence(o.SysRoot)
	if why == "" {
		log.Debug("not on ec2, skipping imds")
		return "", false
	}
	log.Debug("on ec2, asking imds", "evidence", why)
	if strings.EqualFold(o.Getenv(EnvIMDSEndpointMode), "IPv6") {
		return imdsEndpointIPv6, true
	}
	return imdsEndpointIPv4, true
}

// ec2Evidence returns the sysfs file that shows this host is an EC2
// instance, or "" if none does. Nitro instances set the DMI vendor and the
// board asset tag (the instance id); Xen ones a product and hypervisor
// UUID that starts "ec2".
func ec2Evidence(sys string) string {
	checks := []struct {
		file string
		ok   func(string) bool
	}{
		{"class/dmi/id/sys_vendor", isAmazonVendor},
		{"class/dmi/id/board_vendor", isAmazonVendor},
		{"class/dmi/id/board_asset_tag", func(s string) bool { return strings.HasPrefix(s, "i-") }},
		{"class/dmi/id/product_uuid", hasEC2Prefix},
		{"hypervisor/uuid", hasEC2Prefix},
		{"class/dmi/id/bios_version", func(s string) bool { return strings.Contains(strings.ToLower(s), "amazon") }},
	}
	for _, c := range checks {
		if v := readTrim(sys, c.file); v != "" && c.ok(v) {
			return c.file
		}
	}
	return ""
}

func isAmazonVendor(s string) bool { return s == "Amazon EC2" }

func hasEC2Prefix(s string) bool { return strings.HasPrefix(strings.ToLower(s), "ec2") }
