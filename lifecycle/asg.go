package lifecycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
)

// Lifecycle action results.
const (
	HookContinue = "CONTINUE"
	HookAbandon  = "ABANDON"
)

// AutoScalingAPI is the part of *autoscaling.Client that LifecycleCompleter
// uses.
type AutoScalingAPI interface {
	CompleteLifecycleAction(ctx context.Context, in *autoscaling.CompleteLifecycleActionInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error)
	RecordLifecycleActionHeartbeat(ctx context.Context, in *autoscaling.RecordLifecycleActionHeartbeatInput, optFns ...func(*autoscaling.Options)) (*autoscaling.RecordLifecycleActionHeartbeatOutput, error)
}

var _ AutoScalingAPI = (*autoscaling.Client)(nil)

// LifecycleCompleter ends (or extends) the Auto Scaling lifecycle action
// an event came with, once its run is over.
type LifecycleCompleter struct {
	client AutoScalingAPI
}

// NewLifecycleCompleter returns a completer using client.
func NewLifecycleCompleter(client AutoScalingAPI) *LifecycleCompleter {
	return &LifecycleCompleter{client: client}
}

// HookResult is the lifecycle action result for a run's result: CONTINUE
// unless the run failed. (For a terminating instance both end in
// termination; ABANDON only skips the remaining hooks.)
func HookResult(r *Result) string {
	if r != nil && r.Status == StatusFailed {
		return HookAbandon
	}
	return HookContinue
}

// Complete completes hook's lifecycle action with result (HookContinue or
// HookAbandon). AWS errors come back wrapped, with their code reachable
// through smithy.APIError (a token that expired or was already used is a
// ValidationError).
func (c *LifecycleCompleter) Complete(ctx context.Context, hook *LifecycleHook, result string) error {
	if err := checkHook(hook); err != nil {
		return fmt.Errorf("complete lifecycle action: %w", err)
	}
	if result != HookContinue && result != HookAbandon {
		return fmt.Errorf("complete lifecycle action %s: result %q is neither CONTINUE nor ABANDON", hook.HookName, result)
	}
	_, err := c.client.CompleteLifecycleAction(ctx, &autoscaling.CompleteLifecycleActionInput{
		AutoScalingGroupName:  aws.String(hook.AutoScalingGroupName),
		LifecycleHookName:     aws.String(hook.HookName),
		LifecycleActionResult: aws.String(result),
		LifecycleActionToken:  optional(hook.Token),
		InstanceId:            optional(hook.InstanceID),
	})
	if err != nil {
		return fmt.Errorf("complete lifecycle action %s of %s for %s (%s): %w",
			hook.HookName, hook.AutoScalingGroupName, hook.InstanceID, result, err)
	}
	return nil
}

// Heartbeat extends hook's lifecycle action by the hook's heartbeat
// timeout, for a run that takes longer than that.
func (c *LifecycleCompleter) Heartbeat(ctx context.Context, hook *LifecycleHook) error {
	if err := checkHook(hook); err != nil {
		return fmt.Errorf("record lifecycle action heartbeat: %w", err)
	}
	_, err := c.client.RecordLifecycleActionHeartbeat(ctx, &autoscaling.RecordLifecycleActionHeartbeatInput{
		AutoScalingGroupName: aws.String(hook.AutoScalingGroupName),
		LifecycleHookName:    aws.String(hook.HookName),
		LifecycleActionToken: optional(hook.Token),
		InstanceId:           optional(hook.InstanceID),
	})
	if err != nil {
		return fmt.Errorf("record lifecycle action heartbeat %s of %s for %s: %w",
			hook.HookName, hook.AutoScalingGroupName, hook.InstanceID, err)
	}
	return nil
}

// checkHook: the API needs the hook and group names, and the token or the
// instance id.
func checkHook(h *LifecycleHook) error {
	switch {
	case h == nil:
		return errors.New("no lifecycle hook")
	case h.HookName == "" || h.AutoScalingGroupName == "":
		return errors.New("lifecycle hook needs its hook name and auto scaling group name")
	case h.Token == "" && h.InstanceID == "":
		return fmt.Errorf("lifecycle hook %s needs a token or an instance id", h.HookName)
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
