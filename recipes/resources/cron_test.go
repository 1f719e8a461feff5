package resources

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestCronD writes, updates and deletes a cron.d file under a temporary
// root.
func TestCronD(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	o := recipestest.Opts{Root: root}
	recipe := `cron "wp.cron" { minute = "*/5", user = "www-data", command = "php /srv/www/wp/current/wp-cron.php",
  mailto = "ops@example.com", path = "/usr/bin:/bin", environment = { WP_ENV = "prod", A = "1" } }`
	sysConverge(t, o, recipe, 1)
	file := filepath.Join(root, "etc/cron.d/wp-cron")
	got, err := os.ReadFile(file)
	want := "# Crontab for wp.cron managed by stackagent. Changes will be overwritten.\nMAILTO=ops@example.com\nPATH=/usr/bin:/bin\nA=1\nWP_ENV=prod\n*/5 * * * * www-data php /srv/www/wp/current/wp-cron.php\n"
	if err != nil || string(got) != want {
		t.Fatalf("cron.d file (%v):\n%s\nwant:\n%s", err, got, want)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", fi.Mode())
	}
	sysConverge(t, o, recipe, 0)
	sysConverge(t, o, `cron "wp.cron" { predefined_value = "@daily", command = "true" }`, 1)
	if got, _ := os.ReadFile(file); string(got) != "# Crontab for wp.cron managed by stackagent. Changes will be overwritten.\n@daily root true\n" {
		t.Fatalf("updated file:\n%s", got)
	}
	sysConverge(t, o, `cron "wp.cron" { action = "delete" }`, 1)
	if pathExists(file) {
		t.Fatal("file left after delete")
	}
	sysConverge(t, o, `cron "wp.cron" { action = "delete" }`, 0)
}
