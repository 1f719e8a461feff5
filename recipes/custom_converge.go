package recipes

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	lua "github.com/yuin/gopher-lua"
)

// customFrame is one custom resource action being run.
type customFrame struct {
	r       *Resource
	current map[string]any // the loaded current value; nil when it does not exist
	absent  bool           // current_value_does_not_exist() was called
	whyRun  bool
	fired   bool     // converge_if_changed found a difference
	changes []string // what converge_if_changed changes (or would)
	rd      redactor
}

// errNoCurrentValue is raised by current_value_does_not_exist().
var errNoCurrentValue = errors.New("current_value_does_not_exist")

// convergeCustom runs action of custom resource r (resolved, guards
// passed): validates its values, loads its current value, runs the action's
// body to build the inner collection and converges that. r is updated iff
// an inner resource was or converge_if_changed fired.
func (c *converger) convergeCustom(ctx context.Context, r *Resource, action string, rr *ResourceReport) (bool, error) {
	if err := c.checkCustomValues(ctx, r); err != nil {
		return false, err
	}
	f := &customFrame{r: r, whyRun: c.opts.WhyRun, rd: c.redactor(r)}
	c.rt.frames = append(c.rt.frames, f)
	defer func() { c.rt.frames = c.rt.frames[:len(c.rt.frames)-1] }()
	desired := c.propsTable(r, r.props)
	current, err := c.loadCurrent(ctx, f, desired)
	if err != nil {
		return false, fmt.Errorf("load_current_value: %w", err)
	}
	inner, err := c.rt.runCustomAction(ctx, r, r.Kind.custom.actions[action], desired, current)
	rr.Changes = append(rr.Changes, f.changes...)
	if err != nil {
		return false, fmt.Errorf("action %s: %w", action, err)
	}
	if errs := c.rt.finalizeCollection(c.rc, inner, c.rt.collection); len(errs) > 0 {
		return false, errs
	}
	ic := &converger{rt: c.rt, rc: c.rc, opts: c.opts, rep: c.rep, delayedSeen: map[string]bool{}, depth: c.depth + 1,
		hidden: append(append(redactor(nil), c.hidden...), newRedactor(r)...)}
	if err := ic.runCollection(ctx, inner); err != nil {
		return false, err
	}
	if ic.updated || f.fired {
		rr.Status = StatusUpdated
		return true, nil
	}
	rr.Status = StatusUpToDate
	return false, nil
}

// propsTable is new_resource (or the start of current_resource): the
// properties and the name, as a Lua table.
func (c *converger) propsTable(r *Resource, props map[string]any) *lua.LTable {
	t := toLua(c.rt.L, props).(*lua.LTable)
	t.RawSetString("name", lua.LString(r.Name))
	return t
}

// loadCurrent runs load_current_value(current, desired): current starts
// with the name and the name property. It returns current_resource (nil
// when the value does not exist or there is no load_current_value).
func (c *converger) loadCurrent(ctx context.Context, f *customFrame, desired *lua.LTable) (lua.LValue, error) {
	def := f.r.Kind.custom
	if def.load == nil {
		return lua.LNil, nil
	}
	ident := map[string]any{}
	for _, p := range f.r.Kind.Props {
		if p.NameProperty {
			ident[p.Name] = f.r.props[p.Name]
		}
	}
	cur := c.propsTable(f.r, ident)
	got, err := c.rt.call(ctx, def.load, cur, desired)
	if f.absent || got == false {
		return lua.LNil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := c.rt.toGo(cur)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	f.current = map[string]any{}
	for _, p := range f.r.Kind.Props {
		if x, ok := m[p.Name]; ok {
			if cv, err := coerce(p.Type, x); err == nil {
				f.current[p.Name] = cv
			}
		}
	}
	return cur, nil
}

// runCustomAction runs an action's body with resource declarations going
// to a new collection, which it returns.
func (rt *runtime) runCustomAction(ctx context.Context, r *Resource, fn *LuaFunc, args ...any) ([]*Resource, error) {
	saved, compiling, cb, recipe := rt.collection, rt.compiling, rt.curCB, rt.curRecipe
	rt.collection, rt.compiling, rt.curCB, rt.curRecipe = nil, true, r.Kind.custom.cb, r.Recipe
	_, err := rt.call(ctx, fn, args...)
	inner := rt.collection
	rt.collection, rt.compiling, rt.curCB, rt.curRecipe = saved, compiling, cb, recipe
	return inner, err
}

// checkCustomValues checks r's values against the declared types (table)
// and validation callbacks, in declaration order.
func (c *converger) checkCustomValues(ctx context.Context, r *Resource) error {
	def := r.Kind.custom
	for _, p := range r.Kind.Props {
		v := r.props[p.Name]
		if v == nil {
			continue
		}
		if err := def.checkTable(p.Name, v); err != nil {
			return fmt.Errorf("property %s: %w", p.Name, err)
		}
		for _, cb := range def.callbacks[p.Name] {
			ok, err := c.rt.call(ctx, cb.fn, v)
			if err != nil {
				return fmt.Errorf("property %s: callback %q: %w", p.Name, cb.msg, err)
			}
			if ok == nil || ok == false {
				return fmt.Errorf("property %s: %s (value %s)", p.Name, cb.msg, shownValue(&p, r, v))
			}
		}
	}
	return nil
}

func shownValue(p *Prop, r *Resource, v any) string {
	if p.Sensitive || r.Sensitive {
		return "*sensitive value suppressed*"
	}
	return describeValue(v)
}

func describeValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// currentValueDoesNotExist is current_value_does_not_exist(): it ends
// load_current_value saying there is no current value.
func (rt *runtime) currentValueDoesNotExist(L *lua.LState) int {
	if len(rt.frames) == 0 {
		L.RaiseError("current_value_does_not_exist: only inside load_current_value")
	}
	rt.frames[len(rt.frames)-1].absent = true
	L.RaiseError("%s", errNoCurrentValue)
	return 0
}

// convergeIfChanged is converge_if_changed("p1", …, function() … end).
func (rt *runtime) convergeIfChanged(L *lua.LState) int {
	if len(rt.frames) == 0 {
		L.RaiseError("converge_if_changed: only inside a custom resource's action")
	}
	f := rt.frames[len(rt.frames)-1]
	top := L.GetTop()
	fn := L.CheckFunction(top)
	var names []string
	for i := 1; i < top; i++ {
		names = append(names, L.CheckString(i))
	}
	changes, err := f.changed(names)
	if err != nil {
		L.RaiseError("converge_if_changed: %v", err)
	}
	if changes == nil {
		return 0
	}
	f.fired = true
	for _, ch := range changes {
		f.changes = append(f.changes, f.rd.apply(ch))
	}
	if !f.whyRun {
		L.Push(fn)
		L.Call(0, 0)
	}
	return 0
}

// changed lists the changes converge_if_changed makes for the named
// properties (all non-name properties the recipe set, when none is named),
// or nil when there is none.
func (f *customFrame) changed(names []string) ([]string, error) {
	k := f.r.Kind
	if len(names) == 0 {
		for _, p := range k.Props {
			if !p.NameProperty && f.r.IsSet(p.Name) {
				names = append(names, p.Name)
			}
		}
	}
	var out []string
	for _, n := range names {
		p, ok := k.prop(n)
		if !ok {
			return nil, fmt.Errorf("unknown property %q%s", n, suggest(n, propNames(k)))
		}
		want := f.r.props[n]
		if !f.r.IsSet(n) && f.current == nil {
			continue
		}
		if f.current == nil {
			out = append(out, fmt.Sprintf("set %s to %s", n, shownValue(p, f.r, want)))
			continue
		}
		if have := f.current[n]; f.r.IsSet(n) && !reflect.DeepEqual(have, want) {
			out = append(out, fmt.Sprintf("set %s to %s (was %s)", n, shownValue(p, f.r, want), shownValue(p, f.r, have)))
		}
	}
	if f.current == nil {
		return append([]string{"create " + f.r.ID()}, out...), nil
	}
	if len(out) == 0 {
		return nil, nil
	}
	return append([]string{"update " + f.r.ID()}, out...), nil
}

func propNames(k *Kind) []string {
	out := make([]string, len(k.Props))
	for i, p := range k.Props {
		out[i] = p.Name
	}
	return out
}
