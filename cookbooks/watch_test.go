package cookbooks_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stackagent/stackagent/internal/heal"
)

// TestApacheAndFPMAreWatched: apache2::default marks Apache watched (pid
// file, no process per check), php with the fpm handler marks php-fpm, a
// per-app health check becomes a web check, and apache2::stop unwatches
// Apache.
func TestApacheAndFPMAreWatched(t *testing.T) {
	t.Parallel()
	node := platformNode(t, "debian", "debian", "12", hostIdentity(t), initScripts(t), map[string]any{
		"php":    map[string]any{"handler": "fpm"},
		"apache": map[string]any{"vhosts": map[string]any{"shop": map[string]any{"server_name": "shop.test", "docroot": t.TempDir()}}, "health_checks": map[string]any{"shop": map[string]any{"path": "/health", "status": 204.0}}},
	})
	root := t.TempDir()
	for _, d := range []string{"var/log", "etc/apache2/sites-available", "etc/apache2/conf-available", "etc/apache2/conf-enabled", "etc/apache2/sites-enabled", "etc/php/8.2/fpm"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	converge(t, root, node, &fakeRunner{}, "apache2", "php", "apache2::vhost")
	ws, errs := heal.ParseWatches(node.Merged())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(ws.Services) != 2 || ws.Services[0].Name != "apache2" || ws.Services[1].Name != "php-fpm" {
		t.Fatalf("watched: %+v", ws.Services)
	}
	a := ws.Services[0]
	if a.PIDFile != "/var/run/apache2/apache2.pid" || a.Init != "apache2" || a.Process != "apache2" {
		t.Errorf("apache2: %+v", a)
	}
	if len(a.HTTP) != 1 || a.HTTP[0].Host != "shop.test" || a.HTTP[0].Path != "/health" || a.HTTP[0].Status != 204 || a.HTTP[0].Port != 80 {
		t.Errorf("apache2 web checks: %+v", a.HTTP)
	}
	if f := ws.Services[1]; f.PIDFile != "/run/php/php8.2-fpm.pid" || f.Init != "php8.2-fpm" {
		t.Errorf("php-fpm: %+v", f)
	}

	stopped := platformNode(t, "debian", "debian", "12", hostIdentity(t), initScripts(t))
	converge(t, t.TempDir(), stopped, &fakeRunner{}, "apache2::stop")
	ws, _ = heal.ParseWatches(stopped.Merged())
	if len(ws.Services) != 0 || len(ws.Removed) != 1 || ws.Removed[0] != "apache2" {
		t.Fatalf("after apache2::stop: %+v", ws)
	}
}
