package resources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

// maxSSHKey bounds the private key a git or deploy resource copies.
const maxSSHKey = 64 << 10

// gitProtocols are the transports git may use for a resource's
// repository (and its submodules): never ext:: or fd::, which run
// commands named in the URL.
const gitProtocols = "GIT_ALLOW_PROTOCOL=file:git:http:https:ssh"

// safeKeyPath is what a key path must look like before it goes into
// GIT_SSH_COMMAND, which git runs through /bin/sh: the path is one the
// agent created (a private temp dir), so this only guards against an odd
// TMPDIR.
var safeKeyPath = lazyre.New(`^[A-Za-z0-9/._-]+$`)

// gitEnv is the environment of every git the agent runs for a resource:
// no prompts, no askpass, only known transports.
func gitEnv() []string {
	return []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/true", "SSH_ASKPASS=/bin/true", gitProtocols}
}

// sshKeyEnv copies the private key k — its text ("-----BEGIN …", as
// OpsWorks' scm.ssh_key) or the absolute path of a key file under the
// run's root — into a 0600 file in a fresh 0700 temp dir (owned by user
// and group when given, so ssh running as that user reads it) and returns
// the GIT_SSH_COMMAND that uses it, and the function that removes the
// temp dir. The command is fixed text plus the path the agent created: no
// part of k ever reaches a shell. Callers make one per git command and
// remove it when the command is done, whatever way it ended.
func sshKeyEnv(rc *recipes.RunContext, k, user, group string) (env string, remove func(), err error) {
	key, err := readSSHKey(rc, k)
	if err != nil {
		return "", nil, fmt.Errorf("ssh_key: %w", err)
	}
	dir, err := os.MkdirTemp("", "stackagent-ssh-")
	if err != nil {
		return "", nil, fmt.Errorf("ssh_key: %w", err)
	}
	remove = func() { _ = os.RemoveAll(dir) }
	file := filepath.Join(dir, "key")
	if err := writeSSHKey(dir, file, key, user, group); err != nil {
		remove()
		return "", nil, fmt.Errorf("ssh_key: %w", err)
	}
	return "GIT_SSH_COMMAND=ssh -i " + file + " -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new", remove, nil
}

// runGit runs c, a git command, with the environment of gitEnv and, when
// key is set, a private copy of that ssh key that is gone when runGit
// returns.
func runGit(ctx context.Context, rc *recipes.RunContext, c recipes.Command, key string, want []int) (recipes.Result, error) {
	c.Env = append(c.Env, gitEnv()...)
	if key != "" {
		env, remove, err := sshKeyEnv(rc, key, c.User, c.Group)
		if err != nil {
			return recipes.Result{}, err
		}
		defer remove()
		c.Env = append(c.Env, env)
	}
	return runWant(ctx, rc, c, want, false)
}

// readSSHKey returns the key text k is or names.
func readSSHKey(rc *recipes.RunContext, k string) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(k), "-----BEGIN") {
		return []byte(strings.TrimSpace(k) + "\n"), nil
	}
	if strings.ContainsAny(k, "\x00\n\r") || !filepath.IsAbs(k) {
		return nil, errors.New("want the key's text (-----BEGIN …) or the absolute path of a key file")
	}
	f, err := os.Open(rc.Path(k))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", k)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSSHKey+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSSHKey {
		return nil, fmt.Errorf("%s is larger than %d bytes", k, maxSSHKey)
	}
	return b, nil
}

// writeSSHKey writes key as file (0600) in dir (0700), both owned by user
// and group when set.
func writeSSHKey(dir, file string, key []byte, user, group string) error {
	if !safeKeyPath().MatchString(file) {
		return fmt.Errorf("temp dir %s holds characters unsafe in GIT_SSH_COMMAND: set TMPDIR", dir)
	}
	if err := os.WriteFile(file, key, 0o600); err != nil {
		return err
	}
	if user == "" && group == "" {
		return nil
	}
	uid, gid := -1, -1
	var err error
	if user != "" {
		if uid, err = recipes.LookupUID(user); err != nil {
			return err
		}
	}
	if group != "" {
		if gid, err = recipes.LookupGID(group); err != nil {
			return err
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	return os.Chown(file, uid, gid)
}

// checkGitArg refuses a value that git would read as an option where it
// expects a name, a URL or a revision (--upload-pack=…), or that holds a
// control character.
func checkGitArg(prop, v string) error {
	if strings.HasPrefix(v, "-") {
		return fmt.Errorf("property %s: %q must not begin with -", prop, v)
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("property %s: %q holds a control character", prop, v)
	}
	return nil
}
