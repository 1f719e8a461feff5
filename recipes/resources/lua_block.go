package resources

import (
	"context"

	"github.com/stackagent/stackagent/recipes"
)

// luaBlockKind is Chef's ruby_block in Lua: the block runs at converge
// time, and (as in Chef) the resource always counts as updated when it
// runs. Guard it with only_if/not_if for idempotence.
func luaBlockKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "lua_block", Actions: []string{"run"}, DefaultAction: "run",
		Doc: "run a Lua function at converge time",
		Props: []recipes.Prop{
			{Name: "block", Type: recipes.Func, Required: true},
		},
		Provider: recipes.ProviderFunc(planLuaBlock),
	}
}

func planLuaBlock(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
	block := r.Func("block")
	return []recipes.Step{{
		Desc: "execute the lua_block " + r.Name,
		Apply: func(ctx context.Context) error {
			_, err := rc.CallLua(ctx, block)
			return err
		},
	}}, nil
}
