package resources

import (
	"context"
	"fmt"

	"github.com/stackagent/stackagent/recipes"
)

// rebootKind is Chef's reboot. The agent never reboots on its own:
// request_reboot marks the run as needing one (exit 37); reboot_now
// schedules it with shutdown(8) and marks the run so (exit 35); cancel
// withdraws a request made earlier in the run. As in Chef, each action
// counts as an update whenever it runs.
func rebootKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "reboot", Actions: []string{"request_reboot", "reboot_now", "cancel"}, DefaultAction: "nothing",
		Doc: "request or schedule a reboot of the host",
		Props: []recipes.Prop{
			{Name: "reason", Type: recipes.String, Default: "Reboot by stackagent"},
			{Name: "delay_mins", Type: recipes.Int, Default: int64(0)},
		},
		Provider: recipes.ProviderFunc(planReboot),
	}
}

func planReboot(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	reason := r.Str("reason")
	switch action {
	case "request_reboot":
		return []recipes.Step{{Desc: "request a system reboot to occur if the run succeeds", Apply: func(context.Context) error {
			rc.RequestReboot(reason, false)
			return nil
		}}}, nil
	case "reboot_now":
		c := newCmd("shutdown", "-r", fmt.Sprintf("+%d", r.Int("delay_mins")), reason)
		return []recipes.Step{{Desc: fmt.Sprintf("reboot the system in %d minutes", r.Int("delay_mins")), Apply: func(ctx context.Context) error {
			if _, err := runOK(ctx, rc, c); err != nil {
				return err
			}
			rc.RequestReboot(reason, true)
			return nil
		}}}, nil
	}
	if _, _, pending := rc.RebootPending(); !pending {
		return nil, nil // nothing to cancel: up to date
	}
	return []recipes.Step{{Desc: "cancel any existing end-of-run reboot request", Apply: func(context.Context) error {
		rc.CancelReboot()
		return nil
	}}}, nil
}
