package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/stackagent/stackagent/internal/checksum"
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
	f     *os.File
	sum   string
	memfd bool
	dir   string // the private folder of a file copy, removed by close
}

// loadImage copies the plugin at p.Path into a sealed memory file and
// checks the copy's sha256 against p's configured checksum (when p was
// verified by Discover). The caller closes the image once the process
// has started.
func loadImage(p Plugin, noMemfd bool) (*verifiedImage, error) {
	src, err := os.Open(p.Path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	img, err := newImage(p.Name, noMemfd)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(img.f, h), src); err != nil {
		img.close()
		return nil, fmt.Errorf("copy %s: %w", p.Path, err)
	}
	if err := img.seal(); err != nil {
		img.close()
		return nil, fmt.Errorf("seal the copy of %s: %w", p.Path, err)
	}
	img.sum = hex.EncodeToString(h.Sum(nil))
	if p.Verified && img.sum != p.SHA256 {
		img.close()
		return nil, fmt.Errorf("%w: %s changed since it was checked: sha256 %s now, configured %s", checksum.ErrMismatch, p.Path, img.sum, p.SHA256)
	}
	return img, nil
}

// newImage makes the memory file (executable: MFD_EXEC where the kernel
// knows it), or, where memory files cannot be executed
// (vm.memfd_noexec=2) or noMemfd asks so (tests), a file in a new
// root-only (0700) temporary folder.
func newImage(name string, noMemfd bool) (*verifiedImage, error) {
	for _, flags := range []int{unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING | unix.MFD_EXEC, unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING} {
		if noMemfd {
			break
		}
		fd, err := unix.MemfdCreate("stackagent-plugin-"+name, flags)
		if err == nil {
			return &verifiedImage{f: os.NewFile(uintptr(fd), "memfd:"+name), memfd: true}, nil
		}
		if errors.Is(err, unix.EACCES) {
			break // memory files may not be executed here
		}
	}
	dir, err := os.MkdirTemp("", "stackagent-plugin-")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o500)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &verifiedImage{f: f, dir: dir}, nil
}

// seal makes the copy unchangeable: seals on a memory file; for a file,
// reopening it read-only (no writer may be open at exec) in its private
// folder, which nobody else can enter.
func (img *verifiedImage) seal() error {
	if img.memfd {
		const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
		_, err := unix.FcntlInt(img.f.Fd(), unix.F_ADD_SEALS, seals)
		return err
	}
	path := img.f.Name()
	if err := img.f.Close(); err != nil {
		return err
	}
	f, err := os.Open(path)
	img.f = f
	return err
}

// command is the exec of the sealed bytes; argv[0] stays the plugin's
// path, for ps and the plugin's own messages.
func (img *verifiedImage) command(p Plugin) *exec.Cmd {
	cmd := exec.Command("/proc/self/fd/" + strconv.Itoa(int(img.f.Fd())))
	cmd.Args[0] = p.Path
	return cmd
}

func (img *verifiedImage) close() {
	if img == nil {
		return
	}
	if img.f != nil {
		img.f.Close()
	}
	if img.dir != "" {
		os.RemoveAll(img.dir)
	}
}
