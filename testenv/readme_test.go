package testenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A README block's marker: an HTML comment on the line before its ```sh
// fence. Without one a block runs as root and as a normal user.
const (
	markSkip       = "<!-- readme-test: skip"           // not run here (the reason follows)
	markRoot       = "<!-- readme-test: root -->"       // run only as root
	markBackground = "<!-- readme-test: background -->" // started, left running (the daemon)
)

// readmeBlock is one ```sh block of README.md.
type readmeBlock struct {
	line int    // of the opening fence
	mark string // the marker comment, or ""
	body string
}

// readmeBlocks extracts the ```sh blocks of a Markdown file.
func readmeBlocks(path string) ([]readmeBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []readmeBlock
	var cur *readmeBlock
	prev := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body += line + "\n"
		case strings.HasPrefix(line, "```sh"):
			cur = &readmeBlock{line: n}
			if strings.HasPrefix(strings.TrimSpace(prev), "<!-- readme-test:") {
				cur.mark = strings.TrimSpace(prev)
			}
		}
		prev = line
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: a ```sh block is not closed", path, cur.line)
	}
	return out, sc.Err()
}

// TestReadmeBlocks runs every ```sh block of README.md, in order, as an
// operator following the README would: as root in a private mount
// namespace whose /etc, /usr, /var/lib and the checkout are overlays on a
// temporary dir (the host does not change), as a normal user with a
// temporary HOME and XDG dirs. A block marked skip does not run; a block
// marked root runs only as root; the background block (make run) is left
// running for the blocks after it and stopped with SIGINT at the end.
// Each block must exit 0.
func TestReadmeBlocks(t *testing.T) {
	Short(t, "builds the agent and runs the README's commands")
	for _, c := range []string{"bash", "make", "git"} {
		Command(t, c, "the README's commands need it")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	asRoot := os.Geteuid() == 0
	tmp := t.TempDir()
	script := readmeScript(t, blocks, asRoot, tmp)
	// A deadline before go test's own, so the daemon is stopped (SIGTERM
	// to the script, whose trap stops it) and the output shown.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if dl, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-30*time.Second))
		defer cancel()
	}
	var cmd *exec.Cmd
	if asRoot {
		Command(t, "unshare", "util-linux")
		mounts := overlayMounts(repo, tmp)
		cmd = exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "bash", "-c", mounts+"\nexec bash "+script)
	} else {
		home := filepath.Join(tmp, "home")
		if err := os.MkdirAll(home, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd = exec.CommandContext(ctx, "bash", script)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, "state"),
			"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "share"))
		if gc, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output(); err == nil {
			if l := strings.Fields(string(gc)); len(l) == 2 { // keep the user's caches: no rebuild from scratch
				cmd.Env = append(cmd.Env, "GOCACHE="+l[0], "GOMODCACHE="+l[1])
			}
		}
	}
	cmd.Dir = repo
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PATH="+filepath.Join(repo, "bin")+":"+os.Getenv("PATH"), "STACKAGENT_METRICS_ADDRESS=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README blocks (as root: %v): %v\n%s", asRoot, err, out)
	}
	t.Logf("README blocks (as root: %v):\n%s", asRoot, out)
}

// overlayMounts is the shell that puts a writable overlay (upper layer in
// tmp) over each directory the README's commands write as root.
func overlayMounts(repo, tmp string) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	for i, dir := range []string{"/etc", "/usr", "/var/lib", repo} {
		up, work := filepath.Join(tmp, fmt.Sprintf("upper%d", i)), filepath.Join(tmp, fmt.Sprintf("work%d", i))
		fmt.Fprintf(&b, "mkdir -p %q %q\nmount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %q\n", up, work, dir, up, work, dir)
	}
	return b.String()
}

// readmeScript writes the bash script that runs the blocks in order.
func readmeScript(t *testing.T, blocks []readmeBlock, asRoot bool, tmp string) string {
	t.Helper()
	var b strings.Builder
	// The background block runs in its own session: stop it on every exit,
	// a TERM from the test's deadline included.
	b.WriteString("set -euo pipefail\nbg=\nstop() { if [ -n \"$bg\" ]; then kill -INT -- -\"$bg\" 2>/dev/null || true; wait \"$bg\" || true; fi; }\ntrap stop EXIT\ntrap 'exit 1' TERM INT\n")
	daemonLog := filepath.Join(tmp, "daemon.log")
	for _, bl := range blocks {
		where := fmt.Sprintf("README.md:%d", bl.line)
		switch {
		case strings.HasPrefix(bl.mark, markSkip):
			why := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(bl.mark, markSkip), "-->"), " —-")
			fmt.Fprintf(&b, "echo %s\n", shellQuote("=== "+where+": skipped: "+why))
			continue
		case bl.mark == markRoot && !asRoot:
			fmt.Fprintf(&b, "echo '=== %s: root only'\n", where)
			continue
		case bl.mark == markBackground:
			fmt.Fprintf(&b, "echo '=== %s: in the background'\nsetsid bash -c %s > %q 2>&1 &\nbg=$!\n", where, shellQuote(bl.body), daemonLog)
			fmt.Fprintf(&b, "for i in $(seq 600); do grep -q 'daemon started' %q && break; kill -0 \"$bg\" 2>/dev/null || { cat %q; exit 1; }; sleep 0.5; done\ngrep -q 'daemon started' %q || { cat %q; exit 1; }\n",
				daemonLog, daemonLog, daemonLog, daemonLog)
			fmt.Fprintf(&b, "sleep 1\n") // the boot setup
			continue
		case bl.mark != "" && bl.mark != markRoot:
			t.Fatalf("%s: unknown marker %s", where, bl.mark)
		}
		fmt.Fprintf(&b, "echo '=== %s'\nif ! bash -euo pipefail -c %s; then echo '%s failed'; [ -f %q ] && cat %q; exit 1; fi\n",
			where, shellQuote(bl.body), where, daemonLog, daemonLog)
	}
	p := filepath.Join(tmp, "readme.sh")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestReadmeMarkersFew: the list of blocks that cannot run here stays
// short, and every marker is one the runner knows.
func TestReadmeMarkersFew(t *testing.T) {
	t.Parallel()
	blocks, err := readmeBlocks(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, bl := range blocks {
		switch {
		case strings.HasPrefix(bl.mark, markSkip):
			skipped++
		case bl.mark == "", bl.mark == markRoot, bl.mark == markBackground:
		default:
			t.Errorf("README.md:%d: unknown marker %s", bl.line, bl.mark)
		}
	}
	if len(blocks) == 0 || skipped > 4 {
		t.Errorf("%d of %d README blocks are marked skip; keep that list short (at most 4)", skipped, len(blocks))
	}
}
