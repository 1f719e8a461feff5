// Package checksum holds the one checksum-mismatch error: a download, a
// custom cookbooks archive, a deploy archive, a plugin binary or an agent
// package whose sha256 is not the configured one. Callers wrap it with
// what and where ("%w: URL has sha256 X, want Y") and test it with
// errors.Is. It imports nothing of the project.
package checksum

import "errors"

// ErrMismatch is returned (wrapped) when content's sha256 is not the one
// configured or declared.
var ErrMismatch = errors.New("checksum mismatch")
