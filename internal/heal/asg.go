package heal

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/stackagent/stackagent/internal/lazyre"
)

// Healther marks an instance unhealthy in its Auto Scaling group, so the
// group replaces it.
type Healther interface {
	SetUnhealthy(ctx context.Context, instanceID, reason string) error
}

// SetInstanceHealthAPI is the part of *autoscaling.Client ASGHealther uses.
type SetInstanceHealthAPI interface {
	SetInstanceHealth(ctx context.Context, in *autoscaling.SetInstanceHealthInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetInstanceHealthOutput, error)
}

var _ SetInstanceHealthAPI = (*autoscaling.Client)(nil)

// ErrNotOnEC2 is returned for an instance id that is not an EC2 one (the
// agent off EC2 uses the host name).
var ErrNotOnEC2 = errors.New("not on EC2: the instance id is not an EC2 instance id, so there is no Auto Scaling group to hand the instance back to")

var ec2InstanceID = lazyre.New(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// ASGHealther calls SetInstanceHealth (the instance profile needs
// autoscaling:SetInstanceHealth).
type ASGHealther struct {
	client SetInstanceHealthAPI
}

// NewASGHealther returns a Healther using client.
func NewASGHealther(client SetInstanceHealthAPI) *ASGHealther { return &ASGHealther{client: client} }

// SetUnhealthy sends SetInstanceHealth(InstanceId, Unhealthy). The group's
// health check grace period is respected (the API's default): an instance
// still in it is not replaced.
func (h *ASGHealther) SetUnhealthy(ctx context.Context, instanceID, reason string) error {
	if !ec2InstanceID().MatchString(instanceID) {
		return fmt.Errorf("set instance health of %q: %w", instanceID, ErrNotOnEC2)
	}
	_, err := h.client.SetInstanceHealth(ctx, &autoscaling.SetInstanceHealthInput{
		InstanceId:   aws.String(instanceID),
		HealthStatus: aws.String("Unhealthy"),
	})
	if err != nil {
		return fmt.Errorf("set instance health of %s to Unhealthy: %w", instanceID, err)
	}
	return nil
}
