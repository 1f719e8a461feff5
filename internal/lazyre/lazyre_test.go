package lazyre

import (
	"sync"
	"testing"
)

func TestNewCompilesOnceOnFirstUse(t *testing.T) {
	t.Parallel()
	re := New(`^a{1,3}$`)
	var wg sync.WaitGroup
	got := make([]any, 8)
	for i := range got {
		wg.Go(func() { got[i] = re() })
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("call %d got another *Regexp", i)
		}
	}
	if !re().MatchString("aa") || re().MatchString("aaaa") {
		t.Error("wrong expression compiled")
	}
}

func TestNewPanicsOnBadExpressionAtFirstUse(t *testing.T) {
	t.Parallel()
	re := New(`(`) // must not panic here
	defer func() {
		if recover() == nil {
			t.Error("bad expression did not panic at first use")
		}
	}()
	re()
}
