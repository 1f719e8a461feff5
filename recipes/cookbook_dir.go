package recipes

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// CookbookDir reads a directory of a cookbook's files/ (remote_directory),
// looking where CookbookFile looks, and returns its regular files by path
// relative to it ("conf/a.conf"), and the directory's display name.
// Links and other special files in a cookbook are refused.
func (rc *RunContext) CookbookDir(cookbook, source string) (map[string][]byte, string, error) {
	cb, ok := rc.rt.books.Get(cookbook)
	if !ok {
		return nil, "", fmt.Errorf("cookbook %q: %w", cookbook, ErrNoCookbook)
	}
	if source == "" || strings.Contains(source, "..") || path.IsAbs(source) {
		return nil, "", fmt.Errorf("source %q: want a directory inside the cookbook's files/", source)
	}
	platform := rc.Node.GetString("platform")
	version := rc.Node.GetString("platform_version")
	var tried []string
	for _, sub := range []string{platform + "-" + version, platform, "default", ""} {
		if sub == "-" {
			continue
		}
		dir := path.Join("files", sub, source)
		if fi, err := fs.Stat(cb.FS, dir); err != nil || !fi.IsDir() {
			tried = append(tried, cb.Display(dir))
			continue
		}
		out := map[string][]byte{}
		err := fs.WalkDir(cb.FS, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file", cb.Display(p))
			}
			b, err := fs.ReadFile(cb.FS, p)
			out[strings.TrimPrefix(p, dir+"/")] = b
			return err
		})
		return out, cb.Display(dir), err
	}
	return nil, "", fmt.Errorf("directory %q not found in cookbook %s (looked for %s): %w", source, cookbook, strings.Join(tried, ", "), fs.ErrNotExist)
}
