package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinkHops bounds the symlinks followed while resolving one path, as
// the kernel's ELOOP does (40 there; a tree of ours never needs more).
const maxLinkHops = 255

// Resolve returns where rel, a path relative to root, leads once every
// symlink on its way is followed the way the kernel would follow it, as a
// clean slash-separated path relative to root ("." for root itself). It
// reads the tree with lstat and readlink only, so it never follows a link
// out: a step that would leave root (a ".." above it, an absolute link,
// a chain of links through "..") is an error wrapping ErrUnsafeArchive.
// When a component does not exist, the rest is taken lexically and
// dangling is true. root must be a real directory (no link in its path).
func Resolve(root, rel string) (resolved string, dangling bool, err error) {
	var cur []string // real directories (no links) below root
	todo := splitPath(filepath.ToSlash(rel))
	hops := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return "", false, fmt.Errorf("%s: %w (climbs above the root)", rel, ErrUnsafeArchive)
			}
			cur = cur[:len(cur)-1]
			continue
		}
		next := append(cur[:len(cur):len(cur)], part)
		if dangling {
			cur = next
			continue
		}
		full := filepath.Join(root, filepath.FromSlash(path.Join(next...)))
		fi, err := os.Lstat(full)
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			dangling = true
			cur = next
			continue
		case err != nil:
			return "", false, err
		case fi.Mode()&fs.ModeSymlink == 0:
			if !fi.IsDir() && len(todo) > 0 {
				dangling = true // a file used as a directory: ENOTDIR
			}
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", false, fmt.Errorf("%s: %w (more than %d links deep, or a loop)", rel, ErrUnsafeArchive, maxLinkHops)
		}
		target, err := os.Readlink(full)
		if err != nil {
			return "", false, err
		}
		if target == "" || path.IsAbs(filepath.ToSlash(target)) {
			return "", false, fmt.Errorf("%s: link %s -> %q: %w (absolute or empty)", rel, path.Join(next...), target, ErrUnsafeArchive)
		}
		todo = append(splitPath(filepath.ToSlash(target)), todo...)
	}
	if len(cur) == 0 {
		return ".", dangling, nil
	}
	return path.Join(cur...), dangling, nil
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// CheckLinks walks the tree at root (without following links) and
// refuses, with an error wrapping ErrUnsafeArchive that names the link,
// every symlink that is absolute, resolves outside root through any chain
// of links, loops, or, unless allowDangling, leads nowhere. The deploy
// resource and the custom cookbooks fetcher call it on every tree they
// fetch (archive, git checkout, local directory) before anything follows a
// link in it.
func CheckLinks(root string, allowDangling bool) error {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	return filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		rel, _ := filepath.Rel(real, p)
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		_, dangling, err := Resolve(real, rel)
		if err != nil {
			return fmt.Errorf("symlink %s -> %s: %w", filepath.ToSlash(rel), target, err)
		}
		if dangling && !allowDangling {
			return fmt.Errorf("symlink %s -> %s: %w (dangling)", filepath.ToSlash(rel), target, ErrUnsafeArchive)
		}
		return nil
	})
}
