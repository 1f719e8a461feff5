package names

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	t.Parallel()
	good := []string{"wordpress", "php-app", "a", "my_app.v2", "A1", strings.Repeat("a", 64)}
	bad := []string{"", ".", "..", "../../..", "a/b", "-x", ".hidden", "a\nb", "a b", "a\x00", strings.Repeat("a", 65), "é"}
	for _, s := range good {
		if err := Check("app", "app name", s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
		if filepath.Dir(filepath.Join("/srv/www", s)) != "/srv/www" {
			t.Errorf("%q leaves its root", s)
		}
	}
	for _, s := range bad {
		err := Check("deploy.x.app", "app name", s)
		var ne *Error
		if !errors.As(err, &ne) || ne.Field != "deploy.x.app" {
			t.Errorf("%q accepted or unnamed field: %v", s, err)
		}
	}
	if !ValidRelease("20261125101112") || ValidRelease("2026112510111") || ValidRelease("../20261125101") {
		t.Error("release grammar")
	}
	if err := CheckRelease("to", "x/../y"); err == nil || !strings.Contains(err.Error(), "to:") {
		t.Errorf("CheckRelease: %v", err)
	}
}
