package recipes

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

const suppressed = "*sensitive value suppressed*"

// redactor hides values in text meant for people and reports (output,
// reports, results, logs). It holds each value and the forms it takes
// once escaped for PHP, JSON, shell or Go quoting, longest first. Values
// shorter than minAnywhere are hidden only where they stand alone (not
// inside a longer word), so a 2-character password still never shows but
// the rest of the text stays readable.
type redactor []string

// minAnywhere is the length from which a value is hidden wherever it
// occurs; shorter values are hidden as whole words only.
const minAnywhere = 4

// newRedactor hides a resource's sensitive values: every string value of a
// sensitive property, or of every property when the resource is sensitive.
func newRedactor(r *Resource) redactor {
	var out redactor
	public := []string{r.Name}
	for name, v := range r.props {
		if p, ok := r.Kind.prop(name); ok && p.Public {
			if s, ok := v.(string); ok {
				public = append(public, s)
			}
		}
	}
	for name, v := range r.props {
		p, ok := r.Kind.prop(name)
		if !ok || !(p.Sensitive || (r.Sensitive && !p.Public)) {
			continue
		}
		var vals redactor
		collectStrings(v, &vals)
		for _, s := range vals {
			// A value of a sensitive resource that is shown anyway (part
			// of its name or path) is not hidden: that would only blank
			// out the path. Sensitive properties are hidden always.
			if p.Sensitive || !within(s, public) {
				out = append(out, s)
			}
		}
	}
	return out.with()
}

func within(s string, in []string) bool {
	for _, p := range in {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// with adds values (and their escaped forms) and sorts longest first.
func (rd redactor) with(values ...string) redactor {
	out := append(redactor(nil), rd...)
	seen := make(map[string]bool, len(out))
	for _, v := range out {
		seen[v] = true
	}
	for _, v := range values {
		for _, f := range escapedForms(v) {
			if f != "" && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func collectStrings(v any, out *redactor) {
	switch x := v.(type) {
	case string:
		*out = append(*out, escapedForms(x)...)
		for _, line := range strings.Split(x, "\n") {
			if len(line) >= 8 && line != x {
				*out = append(*out, line)
			}
		}
	case []string:
		for _, s := range x {
			collectStrings(s, out)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case map[string]any:
		for _, e := range x {
			collectStrings(e, out)
		}
	}
}

// escapedForms lists v as it may appear in text the agent writes: as is,
// inside a PHP single-quoted string (\ → \\, ' → \'), inside a JSON string
// (with and without HTML escaping), inside a Go quoted string, inside a
// shell single-quoted word (' → '\”), and URL-encoded.
func escapedForms(v string) []string {
	if v == "" {
		return nil
	}
	php := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v)
	forms := []string{v, php, unquote(strconv.Quote(v)), strings.ReplaceAll(v, `'`, `'\''`),
		url.QueryEscape(v), url.PathEscape(v)}
	// JSON of the value and of its PHP form (a report of a PHP diff).
	return append(forms, append(jsonForms(v), jsonForms(php)...)...)
}

// jsonForms is s inside a JSON string, with and without HTML escaping.
func jsonForms(s string) []string {
	html, _ := json.Marshal(s)
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return []string{unquote(string(html)), unquote(strings.TrimSpace(plain.String()))}
}

func unquote(s string) string {
	if len(s) >= 2 {
		return s[1 : len(s)-1]
	}
	return s
}

// contains tells whether s holds any of the values.
func (rd redactor) contains(s string) bool {
	return rd.apply(s) != s
}

func (rd redactor) apply(s string) string {
	for _, v := range rd {
		if len(v) >= minAnywhere {
			s = strings.ReplaceAll(s, v, suppressed)
		} else {
			s = replaceWords(s, v)
		}
	}
	return s
}

// replaceWords replaces v in s where it is not part of a longer word.
func replaceWords(s, v string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, v)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(v)
		if wordAt(s, i-1) || wordAt(s, end) {
			b.WriteString(s[:end])
			s = s[end:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(suppressed)
		s = s[end:]
	}
}

// wordAt tells whether the byte at i of s is part of a word.
func wordAt(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	r := rune(s[i])
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || r >= 0x80
}
