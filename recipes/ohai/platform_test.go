package ohai

import (
	"path/filepath"
	"testing"
)

func TestPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file                      string
		platform, family, version string
	}{
		{"debian", "debian", "debian", "12"},
		{"ubuntu", "ubuntu", "debian", "22.04"},
		{"amzn", "amazon", "amazon", "2023"},
		{"amzn2", "amazon", "amazon", "2"},
		{"rhel", "redhat", "rhel", "9.3"},
		{"popos", "pop", "debian", "22.04"}, // unknown ID, family from ID_LIKE
		{"missing", "unknown", "unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			p, f, v := Platform(filepath.Join("testdata", "os-release", tt.file))
			if p != tt.platform || f != tt.family || v != tt.version {
				t.Errorf("Platform(%s) = %q, %q, %q; want %q, %q, %q",
					tt.file, p, f, v, tt.platform, tt.family, tt.version)
			}
		})
	}
}
