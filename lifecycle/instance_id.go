package lifecycle

import (
	"fmt"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/internal/names"
)

// ec2InstanceRe is an EC2 instance id: i- and 8 or 17 hex digits.
var ec2InstanceRe = lazyre.New(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// ValidInstanceID reports whether s is an EC2 instance id or, for hosts
// outside EC2 (instance_id in agent.yaml), a name.
func ValidInstanceID(s string) bool {
	return ec2InstanceRe().MatchString(s) || names.Valid(s)
}

// instances reads a list of instance ids.
func (d *decoder) instances(field string) []string {
	l := d.strs(field)
	for i, s := range l {
		d.checkInstance(fmt.Sprintf("%s[%d]", field, i), s)
	}
	return l
}

func (d *decoder) checkInstance(field, s string) {
	if s != "" && !ValidInstanceID(s) {
		if len(s) > 80 {
			s = s[:80] + "…"
		}
		d.fail(field, "invalid instance id %s: want an EC2 instance id (i- and 8 or 17 hex digits) or, outside EC2, %s",
			fmt.Sprintf("%q", s), names.Grammar)
	}
}
