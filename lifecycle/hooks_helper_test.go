package lifecycle

import "context"

// funcHook is a test hook of functions (nil: not told).
type funcHook struct {
	name   string
	state  func(State, *Event)
	result func(*Event, *Result)
}

func (h *funcHook) Name() string { return h.name }

func (h *funcHook) OnState(s State, ev *Event) {
	if h.state != nil {
		h.state(s, ev)
	}
}

func (h *funcHook) OnResult(_ context.Context, ev *Event, r *Result) {
	if h.result != nil {
		h.result(ev, r)
	}
}

// resultHooks is one hook that hands every result to add.
func resultHooks(add func(*Result)) []Hook {
	return []Hook{&funcHook{name: "results", result: func(_ *Event, r *Result) { add(r) }}}
}
