package recipes

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/internal/names"
)

// The value checks a cookbook applies to attributes before they reach a
// command or a config file (Apache, php.ini, wp-config.php). Recipes call
// them through the validate table (luaValidate); each refuses a value
// with a *ValueError that names the attribute path it came from.

// ValueError is an attribute value a file or command cannot take.
type ValueError struct {
	Where string // attribute path: node.deploy.wordpress.domains[2]
	What  string // "domain name"
	Value string
	Want  string
}

func (e *ValueError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("%s: invalid %s %q: want %s", e.Where, e.What, v, e.Want)
}

var (
	dnsLabel   = lazyre.New(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	pathChars  = lazyre.New(`^[A-Za-z0-9._/@+,:=~-]+$`)
	phpIdent   = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)
	moduleName = lazyre.New(`^[a-z0-9][a-z0-9_.-]*$`)
	wordRe     = lazyre.New(`^[A-Za-z0-9_][A-Za-z0-9._:/=+@-]*$`)
	packageRe  = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9+._-]*$`)
)

const (
	wantDomain  = "a host name of RFC 1123 labels (a-z 0-9 -, 1-63 characters each, at most 253 in all)"
	wantPath    = "an absolute, clean path (no . or .. steps, no // or trailing /) of A-Z a-z 0-9 . _ / @ + , : = ~ -"
	wantRelPath = "a relative, clean path inside its directory (no .. steps, no leading or trailing /) of A-Z a-z 0-9 . _ / @ + , : = ~ -"
	wantIdent   = "a PHP identifier: [A-Za-z_][A-Za-z0-9_]*"
	wantModule  = "a module or conf name: [a-z0-9][a-z0-9_.-]*, no .."
	wantWord    = "one word of A-Z a-z 0-9 . _ : / = + @ -, not starting with . or -"
	wantPackage = "a package name: [A-Za-z0-9][A-Za-z0-9+._-]*"
	wantLine    = "one line of printable text, not ending in \\"
)

// CheckDomain checks a host name for ServerName, ServerAlias and the
// like: RFC 1123 labels, lower case. With wildcard, a leading "*." is
// allowed (ServerAlias takes it; ServerName does not).
func CheckDomain(where, v string, wildcard bool) error {
	want := wantDomain
	host := strings.ToLower(v)
	if wildcard {
		want += ", optionally after *."
		host = strings.TrimPrefix(host, "*.")
	}
	bad := host == "" || len(host) > 253
	for _, l := range strings.Split(host, ".") {
		bad = bad || !dnsLabel().MatchString(l)
	}
	if bad {
		return &ValueError{where, "domain name", v, want}
	}
	return nil
}

// CheckPath checks an absolute path that goes into a config file or a
// command line: clean, and only characters that need no quoting.
func CheckPath(where, v string) error {
	if !strings.HasPrefix(v, "/") || path.Clean(v) != v || !pathChars().MatchString(v) {
		return &ValueError{where, "path", v, wantPath}
	}
	return nil
}

// CheckRelPath checks a path relative to a directory it must stay in
// (a shared dir, a document root under current).
func CheckRelPath(where, v string) error {
	c := path.Clean(v)
	if v == "" || c != v || c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(v, "/") || !pathChars().MatchString(v) {
		return &ValueError{where, "relative path", v, wantRelPath}
	}
	return nil
}

// CheckIdentifier checks a PHP identifier (a define() name).
func CheckIdentifier(where, v string) error {
	if !phpIdent().MatchString(v) {
		return &ValueError{where, "identifier", v, wantIdent}
	}
	return nil
}

// CheckModule checks an Apache module or conf name (a2enmod, a2enconf):
// php8.2, proxy_fcgi, php8.2-fpm.
func CheckModule(where, v string) error {
	if !moduleName().MatchString(v) || strings.Contains(v, "..") || len(v) > 64 {
		return &ValueError{where, "module name", v, wantModule}
	}
	return nil
}

// CheckWord checks a single token on a config line or in an option list
// (a php.ini key, a mount option, ServerTokens' value): nothing that
// quotes, separates or comments.
func CheckWord(where, v string) error {
	if !wordRe().MatchString(v) || len(v) > 255 {
		return &ValueError{where, "word", v, wantWord}
	}
	return nil
}

// CheckPackage checks a package name given to apt-get, dnf or rpm: never
// an option (-o…).
func CheckPackage(where, v string) error {
	if !packageRe().MatchString(v) || len(v) > 128 {
		return &ValueError{where, "package name", v, wantPackage}
	}
	return nil
}

// CheckLine checks a value that goes on one line of a config file as a
// directive's argument: no line break or other control character, no
// trailing backslash (a continuation line).
func CheckLine(where, v string) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) || strings.HasSuffix(v, `\`) {
		return &ValueError{where, "value", v, wantLine}
	}
	return nil
}

// CheckName checks a name of the agent's grammar (internal/names): an
// app, a layer, a data bag.
func CheckName(where, kind, v string) error {
	return names.Check(where, kind, v)
}

// CheckPort checks a TCP port: an integer 1-65535, as a number or its
// decimal text.
func CheckPort(where string, v any) (int64, error) {
	n, ok := integer(v)
	if !ok || n < 1 || n > 65535 {
		return 0, &ValueError{where, "port", fmt.Sprint(v), "an integer 1-65535"}
	}
	return n, nil
}

// CheckInt checks an integer in [lo, hi], as a number or its decimal text.
func CheckInt(where string, v any, lo, hi int64) (int64, error) {
	n, ok := integer(v)
	if !ok || n < lo || n > hi {
		return 0, &ValueError{where, "integer", fmt.Sprint(v), fmt.Sprintf("an integer %d-%d", lo, hi)}
	}
	return n, nil
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), x == math.Trunc(x) && math.Abs(x) < 1<<53
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// PHPLiteral returns v as a PHP literal of its JSON type: null, true,
// false, an integer or float, or a single-quoted string (\ and '
// escaped, the only escapes PHP reads there).
func PHPLiteral(where string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "", &ValueError{where, "number", fmt.Sprint(x), "a finite number"}
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10), nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(x) + "'", nil
	}
	return "", &ValueError{where, "value", fmt.Sprint(v), "a string, number, boolean or null"}
}
