package names

import (
	"regexp"
	"strings"
	"testing"
)

// The regexps Valid and ValidRelease replace (they were package-level
// MustCompile calls, paid by every command before main): the oracle the
// hand-written checks must agree with.
var (
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	releaseRe = regexp.MustCompile(`^[0-9]{14}$`)
)

func agree(t *testing.T, s string) {
	t.Helper()
	if got, want := Valid(s), nameRe.MatchString(s); got != want {
		t.Errorf("Valid(%q) = %v, grammar says %v", s, got, want)
	}
	if got, want := ValidRelease(s), releaseRe.MatchString(s); got != want {
		t.Errorf("ValidRelease(%q) = %v, grammar says %v", s, got, want)
	}
}

func TestGrammarAgreesWithRegexp(t *testing.T) {
	t.Parallel()
	cases := []string{"", "a", "A", "0", ".", "..", "-", "_", "a.", "a-b_c.d", "a\n", "\na", "a\x00",
		"20261125101112", "20261125101112\n", "2026112510111a", "٣", "é", "aé",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65),
		strings.Repeat("1", 14), strings.Repeat("1", 15), "a/b", "a b", "a:b", "a+b"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string(rune(c)), "a"+string([]byte{byte(c)}), string([]byte{byte(c)})+"a")
	}
	for _, s := range cases {
		agree(t, s)
	}
}

func FuzzGrammar(f *testing.F) {
	for _, s := range []string{"wordpress", "20261125101112", "..", "a\nb", strings.Repeat("z", 64)} {
		f.Add(s)
	}
	f.Fuzz(agree)
}
