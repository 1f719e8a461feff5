package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"
)

// A plugin runs as root. Between the checksum check and the exec, whoever
// can write the plugin directory could put other bytes at the plugin's
// path (rename a file over it) or into its file (write in place). So a
// plugin is never exec'd by its path: its file is opened once, copied
// into an anonymous, sealed memory file (memfd) while the copy is hashed,
// the hash of the copy is checked, and that memory file is exec'd through
// /proc/self/fd/N. What runs is the bytes that were hashed, whatever
// happens to the path afterwards.

// verifiedImage is a plugin's bytes, sealed, ready to exec.
type verifiedImage struct {
	f   *os.File
	sum string
}

// loadImage copies the plugin at p.Path into a sealed memory file and
// checks the copy's sha256 against p's configured checksum (when p was
// verified by Discover). The caller closes the image once the process
// has started.
func loadImage(p Plugin) (*verifiedImage, error) {
	src, err := os.Open(p.Path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("stackagent-plugin-"+p.Name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	img := &verifiedImage{f: os.NewFile(uintptr(fd), "memfd:"+p.Name)}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(img.f, h), src); err != nil {
		img.close()
		return nil, fmt.Errorf("copy %s: %w", p.Path, err)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		img.close()
		return nil, fmt.Errorf("seal %s: %w", p.Path, err)
	}
	img.sum = hex.EncodeToString(h.Sum(nil))
	if p.Verified && img.sum != p.SHA256 {
		img.close()
		return nil, fmt.Errorf("%w: %s changed since it was checked: sha256 %s now, configured %s", ErrChecksum, p.Path, img.sum, p.SHA256)
	}
	return img, nil
}

// command is the exec of the sealed bytes; argv[0] stays the plugin's
// path, for ps and the plugin's own messages.
func (img *verifiedImage) command(p Plugin) *exec.Cmd {
	cmd := exec.Command("/proc/self/fd/" + strconv.Itoa(int(img.f.Fd())))
	cmd.Args[0] = p.Path
	return cmd
}

func (img *verifiedImage) close() {
	if img != nil && img.f != nil {
		img.f.Close()
	}
}
