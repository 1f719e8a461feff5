package resources

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/stackagent/stackagent/recipes"
)

// aptStamp is touched after every successful `apt-get update`, as the
// APT::Update::Post-Invoke-Success hook Chef installs does; its mtime says
// when the lists were last refreshed.
const aptStamp = "/var/lib/apt/periodic/update-success-stamp"

// aptUpdateKind is Chef's apt_update: periodic refreshes the package lists
// when they are older than frequency seconds, update always refreshes.
// Off the debian family it does nothing.
func aptUpdateKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "apt_update", Actions: []string{"periodic", "update"}, DefaultAction: "periodic",
		Doc: "refresh apt's package lists",
		Props: []recipes.Prop{
			{Name: "frequency", Type: recipes.Int, Default: int64(86400)},
		},
		Provider: recipes.ProviderFunc(planAptUpdate),
	}
}

func planAptUpdate(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	if platformFamily(rc) != "debian" {
		return nil, nil
	}
	stamp := rc.Path(aptStamp)
	if action == "periodic" && freshFile(stamp, time.Duration(r.Int("frequency"))*time.Second, rc.Now()) {
		return nil, nil
	}
	c := newCmd("apt-get", "-q", "-o", aptLockWait, "update")
	c.Env = []string{"DEBIAN_FRONTEND=noninteractive"}
	return []recipes.Step{{Desc: "update new lists of packages", Apply: func(ctx context.Context) error {
		if err := applyCmd(rc, c)(ctx); err != nil {
			return err
		}
		return touchFile(stamp)
	}}}, nil
}

// freshFile reports whether file was modified less than maxAge before now.
func freshFile(file string, maxAge time.Duration, now time.Time) bool {
	fi, err := os.Stat(file)
	return err == nil && now.Sub(fi.ModTime()) < maxAge
}

// touchFile creates file (and its directory) or sets its mtime to now.
func touchFile(file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	now := time.Now()
	return os.Chtimes(file, now, now)
}
