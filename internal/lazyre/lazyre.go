// Package lazyre compiles a regexp on first use instead of at package
// initialisation. Every package-level regexp.MustCompile runs before main
// in every command of the one binary — `stackagent version` included —
// and a bounded repetition such as {1,256} compiles into hundreds of
// instructions; the start-up budget (docs/benchmarks.md, "Start-up")
// has no room for that.
//
//	var topicARN = lazyre.New(`^arn:aws[a-z-]*:sns:…$`)
//	m := topicARN().FindStringSubmatch(s)
//
// The expression must be a constant: a bad one panics at its first use,
// which the package's own tests reach.
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function that compiles expr once, on its first call, and
// returns the same *regexp.Regexp to every caller (safe for concurrent use).
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
