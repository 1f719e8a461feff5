package ohai

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// iface is what networkAttrs needs of one network interface.
type iface struct {
	Name     string
	MAC      string // lower case, as net.HardwareAddr prints it; "" if none
	Loopback bool
	Up       bool
	Addrs    []netip.Prefix
}

// defaultRoute returns the interface and gateway of the IPv4 default route
// with the lowest metric in /proc/net/route; "" if there is none.
func defaultRoute(proc string) (ifname, gateway string) {
	f, err := os.Open(filepath.Join(proc, "net/route"))
	if err != nil {
		return "", ""
	}
	defer f.Close()
	best := -1
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 8 || fl[1] != "00000000" || fl[7] != "00000000" {
			continue
		}
		flags, _ := strconv.ParseUint(fl[3], 16, 32)
		metric, err := strconv.Atoi(fl[6])
		if flags&1 == 0 || err != nil || (best >= 0 && metric >= best) {
			continue // route not up, or a better one already found
		}
		best, ifname, gateway = metric, fl[0], ""
		if gw, err := hex.DecodeString(fl[2]); err == nil && len(gw) == 4 {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], binary.BigEndian.Uint32(gw))
			if ip := netip.AddrFrom4(b); !ip.IsUnspecified() {
				gateway = ip.String()
			}
		}
	}
	return ifname, gateway
}

// systemInterfaces lists this host's interfaces and their addresses.
func systemInterfaces() []iface {
	nifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	out := make([]iface, 0, len(nifs))
	for _, n := range nifs {
		ifc := iface{Name: n.Name, MAC: n.HardwareAddr.String(),
			Loopback: n.Flags&net.FlagLoopback != 0, Up: n.Flags&net.FlagUp != 0}
		addrs, _ := n.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				ip, _ := netip.AddrFromSlice(ipn.IP)
				ones, _ := ipn.Mask.Size()
				ifc.Addrs = append(ifc.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
			}
		}
		out = append(out, ifc)
	}
	return out
}

// networkAttrs sets network, ipaddress and macaddress from this host.
func networkAttrs(proc string, a map[string]any) {
	defIf, gw := defaultRoute(proc)
	buildNetwork(systemInterfaces(), defIf, gw, a)
}

// buildNetwork sets network {default_interface, default_gateway,
// interfaces: name → {addresses: addr → {family, prefixlen}, state}},
// ipaddress (the first IPv4 of the default-route interface, else of the
// first non-loopback interface) and macaddress (that interface's, upper
// case as ohai prints it).
func buildNetwork(ifs []iface, defIf, gw string, a map[string]any) {
	network := map[string]any{}
	if defIf != "" {
		network["default_interface"] = defIf
	}
	if gw != "" {
		network["default_gateway"] = gw
	}
	interfaces := map[string]any{}
	for _, ifc := range ifs {
		addrs := map[string]any{}
		for _, p := range ifc.Addrs {
			family := "inet"
			if p.Addr().Is6() {
				family = "inet6"
			}
			addrs[p.Addr().String()] = map[string]any{"family": family, "prefixlen": strconv.Itoa(p.Bits())}
		}
		if ifc.MAC != "" {
			addrs[strings.ToUpper(ifc.MAC)] = map[string]any{"family": "lladdr"}
		}
		state := "down"
		if ifc.Up {
			state = "up"
		}
		interfaces[ifc.Name] = map[string]any{"addresses": addrs, "state": state}
	}
	network["interfaces"] = interfaces
	a["network"] = network

	pick := func(ok func(iface) bool) bool {
		for _, ifc := range ifs {
			if !ok(ifc) {
				continue
			}
			for _, p := range ifc.Addrs {
				if p.Addr().Is4() {
					a["ipaddress"] = p.Addr().String()
					if ifc.MAC != "" {
						a["macaddress"] = strings.ToUpper(ifc.MAC)
					}
					return true
				}
			}
		}
		return false
	}
	if defIf == "" || !pick(func(i iface) bool { return i.Name == defIf }) {
		pick(func(i iface) bool { return !i.Loopback && i.Up })
	}
}
