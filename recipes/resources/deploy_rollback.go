package resources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// rollback switches current back to an earlier release; undeploy removes
// everything in deploy_to but shared/ (shared/ too with purge_shared).

func (d *deployment) planRollback() ([]recipes.Step, error) {
	set := d.set()
	if set == nil {
		return nil, fmt.Errorf("roll back %s: %w", d.display, ErrNoCurrent)
	}
	cur, _ := set.Current()
	// The event's id makes the rollback once per event: run again after a
	// crash between the switch and the event's journal entry, it does not
	// roll back a second release.
	event := d.eventID()
	target, done, err := set.RollbackFor(event, d.r.Str("rollback_to"))
	if err != nil {
		return nil, err
	}
	if done || target.Name == cur.Name {
		return nil, nil
	}
	return []recipes.Step{{
		Desc: fmt.Sprintf("roll back %s/current from release %s to release %s", d.display, cur.Name, target.Name),
		Apply: func(context.Context) error {
			if event != "" {
				if err := set.recordRollback(event, cur.Name, target.Name); err != nil {
					return err
				}
			}
			return set.Switch(target.Name)
		},
	}}, nil
}

// eventID is the id of the event the run is for (node.stackagent.event.id),
// "" when there is none (a run by hand).
func (d *deployment) eventID() string {
	if d.rc.Node == nil {
		return ""
	}
	v, _ := d.rc.Node.Get("stackagent", "event", "id")
	id, _ := v.(string)
	return id
}

func (d *deployment) planUndeploy() ([]recipes.Step, error) {
	ents, err := os.ReadDir(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if d.r.Bool("purge_shared") {
		return []recipes.Step{{Desc: "remove " + d.display, Apply: func(context.Context) error { return os.RemoveAll(d.dir) }}}, nil
	}
	var doomed []string
	for _, e := range ents {
		if e.Name() != "shared" {
			doomed = append(doomed, e.Name())
		}
	}
	if len(doomed) == 0 {
		return nil, nil
	}
	// current first, so nothing points into a half-removed release.
	slices.SortStableFunc(doomed, func(a, b string) int {
		switch {
		case a == "current":
			return -1
		case b == "current":
			return 1
		}
		return strings.Compare(a, b)
	})
	return []recipes.Step{{
		Desc: fmt.Sprintf("remove %s from %s (keeping shared/)", strings.Join(doomed, ", "), d.display),
		Apply: func(context.Context) error {
			for _, n := range doomed {
				if err := os.RemoveAll(filepath.Join(d.dir, n)); err != nil {
					return err
				}
			}
			return nil
		},
	}}, nil
}
