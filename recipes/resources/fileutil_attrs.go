package resources

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/stackagent/stackagent/recipes"
)

// attrs are the owner, group and mode a file, directory or link resource
// declares. An empty owner, group or mode leaves that attribute alone.
type attrs struct {
	owner, group string
	uid, gid     int // -1 when not declared
	mode         string
	perm         uint32 // permission bits, with setuid, setgid and sticky
	link         bool   // a symlink: lchown, and never chmod
}

// resolveAttrs reads owner, group and (when the kind has it) mode from r and
// resolves names to ids.
func resolveAttrs(r *recipes.Resource) (attrs, error) {
	return attrsOf(r.Str("owner"), r.Str("group"), r.Str("mode"))
}

// attrsOf resolves an owner, group and mode ("" each: leave alone).
func attrsOf(owner, group, mode string) (attrs, error) {
	a := attrs{owner: owner, group: group, mode: mode, uid: -1, gid: -1}
	var err error
	if a.owner != "" {
		if a.uid, err = recipes.LookupUID(a.owner); err != nil {
			return a, err
		}
	}
	if a.group != "" {
		if a.gid, err = recipes.LookupGID(a.group); err != nil {
			return a, err
		}
	}
	if a.mode != "" {
		p, err := strconv.ParseUint(a.mode, 8, 32)
		if err != nil || p > 0o7777 {
			return a, fmt.Errorf("bad mode %q", a.mode)
		}
		a.perm = uint32(p)
	}
	return a, nil
}

// node is what a plan knows of a path on disk: whether it exists, its
// type, mode and ownership.
type node struct {
	exists   bool
	isDir    bool
	isLink   bool
	perm     uint32
	uid, gid int
	info     os.FileInfo
}

// lstatNode reads the path without following a symlink.
func lstatNode(path string) (node, error) {
	fi, err := os.Lstat(path)
	if os.IsNotExist(err) {
		return node{}, nil
	}
	if err != nil {
		return node{}, err
	}
	return nodeOf(fi), nil
}

func nodeOf(fi os.FileInfo) node {
	n := node{exists: true, isDir: fi.IsDir(), isLink: fi.Mode()&os.ModeSymlink != 0, info: fi}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		n.perm, n.uid, n.gid = st.Mode&0o7777, int(st.Uid), int(st.Gid)
	}
	return n
}

// steps returns the changes that bring cur's attributes to a's. When cur
// does not exist (an earlier step creates the path with its attributes
// already set) the steps only describe, as Chef's output does.
func (a attrs) steps(display, path string, cur node) []recipes.Step {
	var out []recipes.Step
	add := func(what, from, to string, apply func() error) {
		s := recipes.Step{Desc: fmt.Sprintf("change %s from '%s' to '%s'", what, from, to)}
		if cur.exists {
			s.Apply = func(context.Context) error {
				if err := apply(); err != nil {
					return fmt.Errorf("change %s of %s: %w", what, display, err)
				}
				return nil
			}
		}
		out = append(out, s)
	}
	if a.mode != "" && !a.link && (!cur.exists || cur.perm != a.perm) {
		from := ""
		if cur.exists {
			from = fmtMode(cur.perm)
		}
		add("mode", from, fmtMode(a.perm), func() error { return os.Chmod(path, fileMode(a.perm)) })
	}
	if a.uid >= 0 && (!cur.exists || cur.uid != a.uid) {
		add("owner", idName(cur, cur.uid, userName), a.owner, func() error { return a.chown(path, a.uid, -1) })
	}
	if a.gid >= 0 && (!cur.exists || cur.gid != a.gid) {
		add("group", idName(cur, cur.gid, groupName), a.group, func() error { return a.chown(path, -1, a.gid) })
	}
	return out
}

// apply sets the declared attributes on path (a file or directory being
// created, before it is renamed into place), keeping keep's where a
// declares none. keep may not exist; a new path without a declared mode
// gets def.
func (a attrs) apply(path string, keep node, def uint32) error {
	uid, gid, perm := a.uid, a.gid, def
	if keep.exists {
		perm = keep.perm
		if uid < 0 && keep.uid != os.Geteuid() {
			uid = keep.uid
		}
		if gid < 0 && keep.gid != os.Getegid() {
			gid = keep.gid
		}
	}
	if a.mode != "" {
		perm = a.perm
	}
	if uid >= 0 || gid >= 0 {
		if err := a.chown(path, uid, gid); err != nil {
			return err
		}
	}
	if a.link {
		return nil
	}
	// chmod after chown: chown clears setuid and setgid.
	return os.Chmod(path, fileMode(perm))
}

func (a attrs) chown(path string, uid, gid int) error {
	if a.link {
		return os.Lchown(path, uid, gid)
	}
	return os.Chown(path, uid, gid)
}

// fileMode converts Unix permission bits to Go's os.FileMode.
func fileMode(perm uint32) os.FileMode {
	m := os.FileMode(perm & 0o777)
	if perm&syscall.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if perm&syscall.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if perm&syscall.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	return m
}

func fmtMode(perm uint32) string { return fmt.Sprintf("%04o", perm) }

func idName(cur node, id int, name func(int) string) string {
	if !cur.exists {
		return ""
	}
	return name(id)
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

func groupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name
	}
	return strconv.Itoa(gid)
}
