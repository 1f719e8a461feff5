// Package names holds the one grammar for every name that the agent turns
// into a path element: app, layer, role, data bag and data bag item,
// cookbook, stack and instance names, release names.
//
//	name    = alnum *63( alnum / "." / "_" / "-" )
//	release = 14DIGIT                ; UTC yyyymmddhhmmss
//
// A name that matches can never be "." or "..", never holds a slash, a NUL,
// a newline or a space, and is at most 64 bytes, so filepath.Join(root,
// name) stays directly under root. Callers check a name where it enters
// the agent (event parse, attribute load, run list parse) and say which
// field held it.
package names

import "fmt"

// The grammar is checked by hand, not by a regexp: a package-level
// regexp.MustCompile runs before main in every command (the {0,63}
// repetition alone cost ~1 ms of start-up), and these checks sit on the
// event and converge paths. grammar_test.go holds the regexps they replace
// and checks both agree.

// Grammar is the grammar in words, for error messages and docs.
const Grammar = "1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit"

// Error says which field held a bad name.
type Error struct {
	Field string // e.g. "app", "layers[2]", "deploy.wordpress"
	Kind  string // e.g. "app name"
	Value string
}

func (e *Error) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("%s: invalid %s %q: want %s", e.Field, e.Kind, v, Grammar)
}

// Valid reports whether s is a name.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > 64 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// Check returns an *Error naming field when s is not a valid name of kind.
func Check(field, kind, s string) error {
	if Valid(s) {
		return nil
	}
	return &Error{Field: field, Kind: kind, Value: s}
}

// ValidRelease reports whether s is a release name (a UTC timestamp,
// yyyymmddhhmmss).
func ValidRelease(s string) bool {
	if len(s) != 14 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CheckRelease returns an error naming field when s is not a release name.
func CheckRelease(field, s string) error {
	if ValidRelease(s) {
		return nil
	}
	v := s
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Errorf("%s: invalid release %q: want a UTC timestamp yyyymmddhhmmss (14 digits)", field, v)
}
