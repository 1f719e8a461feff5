package recipes

import (
	"context"
	"fmt"
)

// hasLazy reports whether v holds a lazy value at any depth of its maps
// and lists.
func hasLazy(v any) bool {
	switch x := v.(type) {
	case *Lazy:
		return true
	case map[string]any:
		for _, e := range x {
			if hasLazy(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasLazy(e) {
				return true
			}
		}
	}
	return false
}

// resolveNested returns a copy of a map or list with every lazy value in
// it computed (template variables = { x = lazy(…) }); where names the
// property path for errors ("variables.nested.x").
func (c *converger) resolveNested(ctx context.Context, v any, where string) (any, error) {
	switch x := v.(type) {
	case *Lazy:
		got, err := c.rt.call(ctx, x.fn)
		if err != nil {
			return nil, fmt.Errorf("lazy %s (%s): %w", where, x.fn.src, err)
		}
		if hasLazy(got) {
			return nil, fmt.Errorf("lazy %s (%s): returned a lazy value", where, x.fn.src)
		}
		return got, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := c.resolveNested(ctx, e, where+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := c.resolveNested(ctx, e, fmt.Sprintf("%s[%d]", where, i+1))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// String shows a lazy value in a resource's declaration.
func (l *Lazy) String() string { return "lazy(function at " + l.fn.src.String() + ")" }
