package resources

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/internal/names"
	"github.com/stackagent/stackagent/recipes"
)

var aptWordRe = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._/+~-]*$`)

const maxAptKey = 1 << 20

// aptRepositoryKind is Chef's apt_repository done the way apt wants now:
// /etc/apt/sources.list.d/NAME.list with signed-by pointing at the
// repository's own keyring /etc/apt/keyrings/NAME.asc (or .gpg), fetched
// over HTTPS from key, never added to apt-key's global trust. After a
// change, apt-get update of that list only (cache_rebuild).
func aptRepositoryKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "apt_repository", Actions: []string{"add", "remove"}, DefaultAction: "add",
		Doc: "manage an apt repository with its own signed-by keyring",
		Props: []recipes.Prop{
			{Name: "repo_name", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "uri", Type: recipes.String, Public: true},
			{Name: "distribution", Type: recipes.String, Note: "default node.lsb.codename"},
			{Name: "components", Type: recipes.StringList},
			{Name: "arch", Type: recipes.String},
			{Name: "deb_src", Type: recipes.Bool, Default: false},
			{Name: "key", Type: recipes.String, Note: "https URL of the signing key (armored or binary)"},
			{Name: "cache_rebuild", Type: recipes.Bool, Default: true},
		},
		Provider: recipes.ProviderFunc(planAptRepository),
		Validate: func(rc *recipes.RunContext, r *recipes.Resource) error {
			if err := names.Check("property repo_name", "repository name", r.Str("repo_name")); err != nil {
				return err
			}
			if len(r.Actions) == 1 && r.Actions[0] == "remove" {
				return nil
			}
			_, err := aptSourceLine(rc, r, "/etc/apt/keyrings/x.asc")
			return err
		},
	}
}

func aptURL(field, v string, schemes ...string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || strings.ContainsAny(v, " \t\n\r[]") {
		return fmt.Errorf("property %s: %q is not a URL", field, v)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return fmt.Errorf("property %s: %q: want a URL of %s", field, v, strings.Join(schemes, " or "))
}

// aptSourceLine renders the .list file, every value checked to be one
// word of the sources.list grammar.
func aptSourceLine(rc *recipes.RunContext, r *recipes.Resource, keyring string) ([]byte, error) {
	if err := aptURL("uri", r.Str("uri"), "http", "https"); err != nil {
		return nil, err
	}
	if r.Str("key") != "" {
		if err := aptURL("key", r.Str("key"), "https"); err != nil {
			return nil, err
		}
	}
	dist := r.Str("distribution")
	if dist == "" {
		dist = rc.Node.GetString("lsb.codename")
	}
	words := append([]string{dist}, r.Strings("components")...)
	if a := r.Str("arch"); a != "" {
		words = append(words, a)
	}
	for _, w := range words {
		if !aptWordRe().MatchString(w) {
			return nil, fmt.Errorf("distribution, component or arch %q: want one word of A-Z a-z 0-9 . _ / + ~ -", w)
		}
	}
	opts := []string{}
	if a := r.Str("arch"); a != "" {
		opts = append(opts, "arch="+a)
	}
	if r.Str("key") != "" {
		opts = append(opts, "signed-by="+keyring)
	}
	o := ""
	if len(opts) > 0 {
		o = "[" + strings.Join(opts, " ") + "] "
	}
	rest := strings.Join(append([]string{r.Str("uri"), dist}, r.Strings("components")...), " ")
	var b bytes.Buffer
	fmt.Fprintf(&b, "deb %s%s\n", o, rest)
	if r.Bool("deb_src") {
		fmt.Fprintf(&b, "deb-src %s%s\n", o, rest)
	}
	return b.Bytes(), nil
}

func planAptRepository(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	name := r.Str("repo_name")
	if err := names.Check("property repo_name", "repository name", name); err != nil {
		return nil, err
	}
	list := "/etc/apt/sources.list.d/" + name + ".list"
	if action == "remove" {
		var steps []recipes.Step
		for _, f := range []string{list, "/etc/apt/keyrings/" + name + ".asc", "/etc/apt/keyrings/" + name + ".gpg"} {
			if p := rc.Path(f); pathExists(p) {
				steps = append(steps, recipes.Step{Desc: "delete " + f, Apply: func(context.Context) error { return os.Remove(p) }})
			}
		}
		return steps, nil
	}
	var key []byte
	keyring := ""
	if u := r.Str("key"); u != "" {
		var err error
		if key, err = fetchAptKey(ctx, rc, u); err != nil {
			return nil, err
		}
		keyring = "/etc/apt/keyrings/" + name + ".gpg"
		if bytes.HasPrefix(bytes.TrimSpace(key), []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			keyring = "/etc/apt/keyrings/" + name + ".asc"
		}
	}
	line, err := aptSourceLine(rc, r, keyring)
	if err != nil {
		return nil, err
	}
	var steps []recipes.Step
	for _, f := range []struct {
		path string
		data []byte
	}{{keyring, key}, {list, line}} {
		if f.path == "" {
			continue
		}
		p, data := rc.Path(f.path), f.data
		if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, data) {
			continue
		}
		steps = append(steps, recipes.Step{Desc: "write " + f.path, Apply: func(context.Context) error {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			return atomicfile.WriteFile(p, data, 0o644)
		}})
	}
	if len(steps) > 0 && r.Bool("cache_rebuild") {
		cmd := newCmd("apt-get", "update", "-q", "-o", "Dir::Etc::sourcelist=sources.list.d/"+name+".list",
			"-o", "Dir::Etc::sourceparts=-", "-o", "APT::Get::List-Cleanup=0")
		steps = append(steps, recipes.Step{Desc: "update the package lists of " + name,
			Apply: func(ctx context.Context) error { _, err := runOK(ctx, rc, cmd); return err }})
	}
	return steps, nil
}

// fetchAptKey downloads a signing key (at most 1 MiB).
func fetchAptKey(ctx context.Context, rc *recipes.RunContext, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := rc.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch key %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch key %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAptKey+1))
	if err == nil && len(b) > maxAptKey {
		err = fmt.Errorf("larger than %d bytes", maxAptKey)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch key %s: %w", u, err)
	}
	return b, nil
}
