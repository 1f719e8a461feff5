package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/internal/archive"
	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/checksum"
	"github.com/stackagent/stackagent/lifecycle"
)

// upgrader runs upgrade_agent: it installs the asked version of the agent
// (a .deb, an .rpm, the bare binary, or the version from the platform's
// repositories) and asks the daemon to restart into it. The event stays
// in progress across the restart; the new agent finishes it (its version
// is the one asked for) and reports.
type upgrader struct {
	binary   string // the running binary, replaced by a bare-binary upgrade
	stateDir string
	log      *slog.Logger
	http     *http.Client
	s3       func() (*s3.Client, error)
	family   string // platform_family: debian, rhel, amazon…
	maxSize  int64  // largest package_url download; 0 is maxPackageBytes
}

// maxPackageBytes is the largest agent package package_url may name.
const maxPackageBytes = 512 << 20

func (u *upgrader) Upgrade(ctx context.Context, ev *lifecycle.Event) (string, error) {
	want := ev.AgentVersion
	if want == version {
		return fmt.Sprintf("running version %s", version), nil
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "upgrading the agent from %s to %s\n", version, want)
	if ev.PackageURL == "" {
		if err := u.fromRepositories(ctx, want, &out); err != nil {
			return out.String(), err
		}
	} else {
		file, err := u.fetch(ctx, ev.PackageURL)
		if err != nil {
			return out.String(), fmt.Errorf("upgrade_agent: fetch %s: %w", ev.PackageURL, err)
		}
		defer os.Remove(file)
		if err := u.install(ctx, file, want, &out); err != nil {
			return out.String(), err
		}
	}
	got, err := binaryVersion(ctx, u.binary)
	if err != nil {
		return out.String(), fmt.Errorf("upgrade_agent: the installed agent does not run: %w", err)
	}
	if got != want {
		return out.String(), fmt.Errorf("upgrade_agent: installed %s reports version %s, not %s", u.binary, got, want)
	}
	fmt.Fprintf(&out, "installed %s; restarting into it\n", want)
	return out.String(), lifecycle.ErrRestart
}

// fromRepositories installs the version with apt or dnf.
func (u *upgrader) fromRepositories(ctx context.Context, want string, out io.Writer) error {
	var cmd *exec.Cmd
	switch u.family {
	case "debian":
		cmd = exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "--allow-downgrades", "-o", "Dpkg::Options::=--force-confold", "stackagent="+want)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	case "rhel", "amazon", "fedora":
		cmd = exec.CommandContext(ctx, "dnf", "install", "-y", "stackagent-"+want)
	default:
		return fmt.Errorf("upgrade_agent: no package manager for platform_family %q: give package_url", u.family)
	}
	return runTo(cmd, out)
}

// install installs a fetched package or binary, by its content.
func (u *upgrader) install(ctx context.Context, file, want string, out io.Writer) error {
	head := make([]byte, 32)
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("!<arch>\ndebian-binary")):
		return runTo(exec.CommandContext(ctx, "dpkg", "--force-confold", "-i", file), out)
	case bytes.HasPrefix(head, []byte{0xed, 0xab, 0xee, 0xdb}):
		return runTo(exec.CommandContext(ctx, "rpm", "-U", "--oldpackage", file), out)
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		os.Chmod(file, 0o755)
		got, err := binaryVersion(ctx, file)
		if err != nil {
			return fmt.Errorf("upgrade_agent: the new binary does not run: %w", err)
		}
		if got != want {
			return fmt.Errorf("upgrade_agent: package_url holds version %s, not %s; nothing installed", got, want)
		}
		return replaceFile(file, u.binary)
	}
	return errors.New("upgrade_agent: package_url is neither a .deb, an .rpm nor a Linux binary")
}

// replaceFile puts src at dst atomically (internal/atomicfile: a copy
// beside dst, fsync'd, renamed, the directory fsync'd).
func replaceFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Write(dst, 0o755, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// packageChecksumHow says how to give package_url a checksum.
const packageChecksumHow = "append #sha256=<sha256 of the package> to package_url (sha256sum FILE prints it)"

// fetch downloads package_url into the state dir. A "#sha256=HEX"
// fragment is the package's checksum, checked; a plain http:// URL
// without one is refused.
func (u *upgrader) fetch(ctx context.Context, raw string) (_ string, err error) {
	raw, want, _ := strings.Cut(raw, "#sha256=")
	want = strings.ToLower(want)
	if err := archive.RequireChecksum(raw, want, packageChecksumHow); err != nil {
		return "", err
	}
	dir := filepath.Join(u.stateDir, "upgrades")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "agent-*")
	if err != nil {
		return "", err
	}
	defer func() {
		f.Close()
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	body, err := u.openPackage(ctx, raw, want)
	if err != nil {
		return "", err
	}
	defer body.Close()
	if err := u.copyPackage(f, body, want); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// openPackage opens package_url: an http(s) URL (its response checked
// against want), s3://bucket/key, or an absolute path or file:// URL.
func (u *upgrader) openPackage(ctx context.Context, raw, want string) (io.ReadCloser, error) {
	uu, err := url.Parse(raw)
	switch {
	case err == nil && (uu.Scheme == "http" || uu.Scheme == "https"):
		return u.openHTTP(ctx, raw, want)
	case err == nil && uu.Scheme == "s3":
		return u.openS3(ctx, uu)
	}
	p := strings.TrimPrefix(raw, "file://")
	if !filepath.IsAbs(p) {
		return nil, errors.New("want an http(s) URL, s3://bucket/key or an absolute path")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// openHTTP GETs the package; a response whose checksum header
// contradicts want is refused (archive.CheckResponse).
func (u *upgrader) openHTTP(ctx context.Context, raw, want string) (io.ReadCloser, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	resp, err := u.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if err := archive.CheckResponse(resp, want, packageChecksumHow); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp.Body, nil
}

// openS3 reads s3://bucket/key.
func (u *upgrader) openS3(ctx context.Context, uu *url.URL) (io.ReadCloser, error) {
	c, err := u.s3()
	if err != nil {
		return nil, err
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(uu.Host), Key: aws.String(strings.TrimPrefix(uu.Path, "/"))})
	if err != nil {
		return nil, err
	}
	return obj.Body, nil
}

// copyPackage copies body to dst, at most the download limit, and checks
// its sha256 against want (when given).
func (u *upgrader) copyPackage(dst io.Writer, body io.Reader, want string) error {
	max := u.maxSize
	if max <= 0 {
		max = maxPackageBytes
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(dst, h), io.LimitReader(body, max+1))
	if err != nil {
		return err
	}
	if n > max {
		limit := fmt.Sprintf("%d bytes", max)
		if max%(1<<20) == 0 {
			limit = fmt.Sprintf("%d MiB", max>>20)
		}
		return fmt.Errorf("the package is larger than %s, the limit of an agent package download; refused, nothing installed", limit)
	}
	if got := hex.EncodeToString(h.Sum(nil)); want != "" && got != want {
		return fmt.Errorf("%w: the package has sha256 %s, package_url says %s", checksum.ErrMismatch, got, want)
	}
	return nil
}

// binaryVersion runs BINARY version and returns the version it prints
// ("stackagent 1.2.3 (…)").
func binaryVersion(ctx context.Context, binary string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "version").Output()
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || f[0] != "stackagent" {
		return "", fmt.Errorf("unexpected version output %q", out)
	}
	return f[1], nil
}

func runTo(cmd *exec.Cmd, out io.Writer) error {
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("upgrade_agent: %s: %w", strings.Join(cmd.Args, " "), err)
	}
	return nil
}

// reexec replaces the process with the (new) agent binary, same
// arguments and environment: the PID stays, so systemd keeps tracking it.
func reexec(binary string) error {
	return syscall.Exec(binary, append([]string{binary}, os.Args[1:]...), os.Environ())
}

// runningBinary is the path of this process's binary.
func runningBinary() string {
	p, err := os.Executable()
	if err != nil {
		return "/usr/bin/stackagent"
	}
	return strings.TrimSuffix(p, " (deleted)")
}
