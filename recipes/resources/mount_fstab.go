package resources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stackagent/stackagent/recipes"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

const fstab = "/etc/fstab"

// planFstab adds, replaces (enable) or removes (disable) the line of the
// mount point in rc.Path("/etc/fstab"), leaving every other line as it is.
func planFstab(rc *recipes.RunContext, s mountSpec, action string) ([]recipes.Step, error) {
	file := rc.Path(fstab)
	lines, err := readLines(file)
	if err != nil {
		return nil, err
	}
	want := ""
	if action == "enable" {
		want = s.FstabLine()
	}
	out, desc := editFstab(lines, s.MountPoint, want)
	if desc == "" {
		return nil, nil
	}
	return []recipes.Step{{Desc: desc, Apply: func(context.Context) error {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if fi, err := os.Stat(file); err == nil {
			mode = fi.Mode().Perm()
		}
		data := strings.Join(out, "\n")
		if len(out) > 0 {
			data += "\n"
		}
		return atomicfile.WriteFile(file, []byte(data), mode)
	}}}, nil
}

// editFstab returns fstab's lines with the mount point's entry set to want
// (or removed when want is ""), and a description of the change ("" when
// there is none). The last entry of the mount point is the one replaced,
// as mount(8) would use it; others for it are dropped.
func editFstab(lines []string, mountPoint, want string) ([]string, string) {
	mountPoint = filepath.Clean(mountPoint)
	last := -1
	var drop []int
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || filepath.Clean(fstabUnescape(f[1])) != mountPoint {
			continue
		}
		if last >= 0 {
			drop = append(drop, last)
		}
		last = i
	}
	switch {
	case want == "" && last < 0:
		return lines, ""
	case want == "":
		drop = append(drop, last)
	case last >= 0 && len(drop) == 0 && strings.Join(strings.Fields(lines[last]), " ") == want:
		return lines, ""
	}
	out := make([]string, 0, len(lines)+1)
	for i, l := range lines {
		switch {
		case slices.Contains(drop, i):
		case i == last && want != "":
			out = append(out, want)
		default:
			out = append(out, l)
		}
	}
	switch {
	case want == "":
		return out, fmt.Sprintf("remove %s from %s", mountPoint, fstab)
	case last < 0:
		return append(out, want), fmt.Sprintf("add %q to %s", want, fstab)
	}
	return out, fmt.Sprintf("replace %q with %q in %s", lines[last], want, fstab)
}
