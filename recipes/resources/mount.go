package resources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// mountKind is Chef's mount. mount and umount act on the live mount table
// (read from /proc/self/mountinfo); when the mount point is mounted but
// the requested options differ from the live ones, mount remounts. enable
// and disable manage the mount point's line in /etc/fstab, in Chef's
// format, keeping every other line.
func mountKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "mount", Actions: []string{"mount", "umount", "remount", "enable", "disable"}, DefaultAction: "mount",
		Doc: "mount file systems and manage /etc/fstab",
		Props: []recipes.Prop{
			{Name: "mount_point", Type: recipes.String, NameProperty: true},
			{Name: "device", Type: recipes.String},
			{Name: "fstype", Type: recipes.String, Default: "auto"},
			{Name: "options", Type: recipes.StringList, Default: []string{"defaults"}},
			{Name: "dump", Type: recipes.Int, Default: int64(0)},
			{Name: "pass", Type: recipes.Int, Default: int64(2)},
			// supports: {remount = true} remounts with mount -o remount
			// instead of unmounting and mounting again.
			{Name: "supports", Type: recipes.Map},
		},
		Provider: recipes.ProviderFunc(planMount),
	}
}

// mountSpec is what a mount resource asks for.
type mountSpec struct {
	Device, MountPoint, FSType string
	Options                    []string
	Dump, Pass                 int64
}

func specOf(r *recipes.Resource) mountSpec {
	return mountSpec{Device: r.Str("device"), MountPoint: r.Str("mount_point"), FSType: r.Str("fstype"),
		Options: r.Strings("options"), Dump: r.Int("dump"), Pass: r.Int("pass")}
}

func (s mountSpec) optionString() string {
	if len(s.Options) == 0 {
		return "defaults"
	}
	return strings.Join(s.Options, ",")
}

// MountArgs are mount(8)'s arguments: -t FSTYPE -o OPTIONS DEVICE DIR.
func (s mountSpec) MountArgs() []string {
	return []string{"-t", s.FSType, "-o", s.optionString(), s.Device, s.MountPoint}
}

// RemountArgs remount the mount point with the requested options.
func (s mountSpec) RemountArgs() []string {
	return []string{"-o", "remount," + s.optionString(), s.MountPoint}
}

// FstabLine is Chef's fstab line: "device mount_point fstype options dump
// pass", with blanks in paths escaped as fstab(5) wants.
func (s mountSpec) FstabLine() string {
	return fmt.Sprintf("%s %s %s %s %d %d", fstabEscape(s.Device), fstabEscape(s.MountPoint), s.FSType, s.optionString(), s.Dump, s.Pass)
}

var fstabEscaper = strings.NewReplacer(" ", `\040`, "\t", `\011`, "\n", `\012`, `\`, `\134`)

func fstabEscape(s string) string { return fstabEscaper.Replace(s) }

func fstabUnescape(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

func planMount(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	s := specOf(r)
	switch action {
	case "enable", "disable":
		return planFstab(rc, s, action)
	}
	if s.Device == "" && action == "mount" {
		return nil, fmt.Errorf("mount %s: device is required", s.MountPoint)
	}
	infos, err := readMountinfo("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	cur := findMount(infos, rc.Path(s.MountPoint))
	mounted := cur != nil && sameDevice(s, *cur, rc.Path)
	live := rebased(s, rc.Path)
	remount := newCmd("mount", live.RemountArgs()...)
	if v, ok := r.Map("supports")["remount"]; !ok || v != true {
		remount = newCmd("/bin/sh", append([]string{"-c", `umount "$1" && shift && mount "$@"`, "sh", live.MountPoint}, live.MountArgs()...)...)
	}
	switch {
	case action == "mount" && !mounted:
		return []recipes.Step{cmdStep(rc, fmt.Sprintf("mount %s to %s", s.Device, s.MountPoint), newCmd("mount", live.MountArgs()...))}, nil
	case action == "mount":
		if diff := optionsDiffer(s.Options, *cur); len(diff) > 0 {
			return []recipes.Step{cmdStep(rc, fmt.Sprintf("remount %s with options %s (differ: %s)", s.MountPoint, s.optionString(), strings.Join(diff, ",")), remount)}, nil
		}
	case action == "umount" && cur != nil:
		return []recipes.Step{cmdStep(rc, "unmount "+s.MountPoint, newCmd("umount", live.MountPoint))}, nil
	case action == "remount" && cur != nil:
		return []recipes.Step{cmdStep(rc, "remount "+s.MountPoint, remount)}, nil
	}
	return nil, nil
}

// rebased maps the spec's paths into the run's root (a bind mount's
// source is a path too).
func rebased(s mountSpec, path func(string) string) mountSpec {
	s.MountPoint = path(s.MountPoint)
	if isBind(s.Options) {
		s.Device = path(s.Device)
	}
	return s
}

func isBind(opts []string) bool {
	return slices.Contains(opts, "bind") || slices.Contains(opts, "rbind")
}

// mountInfo is one line of /proc/self/mountinfo.
type mountInfo struct {
	Root, MountPoint, FSType, Source string
	Options                          []string // per-mount and superblock options
}

// readMountinfo parses a mountinfo file.
func readMountinfo(file string) ([]mountInfo, error) {
	lines, err := readLines(file)
	if err != nil {
		return nil, err
	}
	return parseMountinfo(lines), nil
}

// parseMountinfo parses mountinfo lines (proc(5)): ID PARENT MAJ:MIN ROOT
// MOUNTPOINT OPTS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTS.
func parseMountinfo(lines []string) []mountInfo {
	var out []mountInfo
	for _, line := range lines {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+4 {
			continue
		}
		opts := strings.Split(f[5], ",")
		opts = append(opts, strings.Split(f[sep+3], ",")...)
		out = append(out, mountInfo{Root: fstabUnescape(f[3]), MountPoint: fstabUnescape(f[4]),
			FSType: f[sep+1], Source: fstabUnescape(f[sep+2]), Options: opts})
	}
	return out
}

// findMount returns the topmost mount at dir, or nil.
func findMount(infos []mountInfo, dir string) *mountInfo {
	dir = filepath.Clean(dir)
	for i := len(infos) - 1; i >= 0; i-- {
		if infos[i].MountPoint == dir {
			return &infos[i]
		}
	}
	return nil
}

// sameDevice reports whether the live mount is of the requested device
// and type. A bind mount is recognised by the mount point being the very
// directory of the source (same device and inode).
func sameDevice(s mountSpec, cur mountInfo, path func(string) string) bool {
	if isBind(s.Options) {
		a, err1 := os.Stat(path(s.Device))
		b, err2 := os.Stat(path(s.MountPoint))
		return err1 == nil && err2 == nil && os.SameFile(a, b)
	}
	if !sameFSType(s.FSType, cur.FSType) {
		return false
	}
	if s.Device == cur.Source {
		return true
	}
	a, err1 := filepath.EvalSymlinks(resolveDevice(s.Device))
	b, err2 := filepath.EvalSymlinks(cur.Source)
	return err1 == nil && err2 == nil && a == b
}

// resolveDevice turns UUID= and LABEL= into their /dev/disk links.
func resolveDevice(dev string) string {
	if k, v, ok := strings.Cut(dev, "="); ok {
		switch k {
		case "UUID":
			return "/dev/disk/by-uuid/" + v
		case "LABEL":
			return "/dev/disk/by-label/" + v
		}
	}
	return dev
}

func sameFSType(want, have string) bool {
	switch {
	case want == "" || want == "auto" || want == "none" || want == have:
		return true
	case strings.HasPrefix(want, "nfs") && strings.HasPrefix(have, "nfs"):
		return true
	}
	return false
}

// optionsDiffer returns the requested options the live mount does not
// show. Options that never appear in mountinfo (defaults, _netdev,
// auto/noauto, nofail, user, x-*, …) are ignored; nfsvers= is compared as
// vers=, sizes with units as bytes and modes without leading zeros.
func optionsDiffer(want []string, cur mountInfo) []string {
	have := map[string]bool{}
	for _, o := range cur.Options {
		have[normOption(o)] = true
	}
	var out []string
	for _, o := range want {
		if ignoredOption(o) {
			continue
		}
		if !have[normOption(o)] {
			out = append(out, o)
		}
	}
	return out
}

var invisibleOptions = map[string]bool{
	"defaults": true, "_netdev": true, "auto": true, "noauto": true, "nofail": true, "user": true,
	"users": true, "nouser": true, "owner": true, "group": true, "exec": true, "suid": true, "dev": true,
	"async": true, "bind": true, "rbind": true, "sw": true,
}

func ignoredOption(o string) bool {
	k, v, _ := strings.Cut(o, "=")
	return invisibleOptions[o] || strings.HasPrefix(o, "x-") || strings.HasPrefix(o, "comment=") ||
		(k == "size" && strings.HasSuffix(v, "%")) || (k == "nfsvers" || k == "vers") && !strings.Contains(v, ".")
}

func normOption(o string) string {
	k, v, ok := strings.Cut(o, "=")
	if !ok {
		return o
	}
	switch k {
	case "nfsvers":
		k = "vers"
	case "mode":
		v = strings.TrimLeft(v, "0")
	case "size", "nr_inodes":
		if n, ok := parseSize(v); ok {
			v = strconv.FormatInt(n, 10)
		}
	}
	return k + "=" + v
}

// parseSize reads a size with an optional k, m, g or t suffix.
func parseSize(v string) (int64, bool) {
	mult := int64(1)
	if n := len(v); n > 0 {
		if i := strings.IndexByte("kmgt", v[n-1]|0x20); i >= 0 {
			mult, v = int64(1)<<(10*(i+1)), v[:n-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n * mult, err == nil
}
