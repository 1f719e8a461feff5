package resources

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stackagent/stackagent/internal/archive"
	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

// checksumHow says where a deploy's checksum goes, for the plain http
// refusal.
const checksumHow = `set checksum = "<sha256 of the archive>" on the deploy resource (stack JSON: deploy.<app>.scm.checksum; sha256sum ARCHIVE prints it)`

var sha256Hex = lazyre.New(`^[0-9a-fA-F]{64}$`)

// validateSource checks the source properties at compile time: a plain
// http:// repository needs a checksum, a checksum is a sha256, limits are
// positive.
func validateSource(r *recipes.Resource) error {
	sum := r.Str("checksum")
	if sum != "" && !sha256Hex().MatchString(sum) {
		return fmt.Errorf("checksum %q: want a sha256 in hex (64 characters)", sum)
	}
	if typ := r.Str("source_type"); typ == "http" || typ == "s3" {
		if err := archive.RequireChecksum(r.Str("repository"), sum, checksumHow); err != nil {
			return fmt.Errorf("repository %s: %w", redactURLString(r.Str("repository")), err)
		}
	}
	for _, prop := range []string{"max_archive_size", "max_archive_entries"} {
		if r.Get(prop) != nil && r.Int(prop) < 1 {
			return fmt.Errorf("%s %d: want at least 1", prop, r.Int(prop))
		}
	}
	return nil
}

// archiveOptions are the resource's limits on an archive (the defaults of
// internal/archive unless raised), dangling links kept.
func archiveOptions(rc *recipes.RunContext, r *recipes.Resource) archive.Options {
	opt := archive.Options{AllowDangling: true, Log: rc.Log, MaxSize: archive.DefaultMaxSize, MaxEntries: archive.DefaultMaxEntries}
	if r.Get("max_archive_size") != nil {
		opt.MaxSize = r.Int("max_archive_size")
	}
	if r.Get("max_archive_entries") != nil {
		opt.MaxEntries = int(r.Int("max_archive_entries"))
	}
	return opt
}

// limitHint names the properties that raise a limit the archive is over.
func limitHint(err error) error {
	if errors.Is(err, archive.ErrArchiveTooLarge) && !strings.Contains(err.Error(), "max_archive_") {
		return fmt.Errorf("%w (raise max_archive_size or max_archive_entries on the deploy resource)", err)
	}
	return err
}
