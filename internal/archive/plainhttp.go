package archive

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrChecksumRequired: a source fetched over plain http has no checksum,
// so anyone on the path could swap what root runs or serves.
var ErrChecksumRequired = errors.New("a plain http:// source needs a checksum")

// PlainHTTP reports whether raw is an http:// URL (not https).
func PlainHTTP(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	return err == nil && strings.EqualFold(u.Scheme, "http")
}

// RequireChecksum refuses a plain http:// URL without a checksum; how
// says where to add one (e.g. `set checksum = "<sha256>" on the deploy
// resource (sha256sum prints it)`). Other URLs and any URL with a checksum pass.
func RequireChecksum(raw, checksum, how string) error {
	if checksum != "" || !PlainHTTP(raw) {
		return nil
	}
	return fmt.Errorf("%w: %s, or use https", ErrChecksumRequired, how)
}

// CheckResponse refuses a response that ended on plain http (an https
// URL redirected to http) when there is no checksum.
func CheckResponse(resp *http.Response, checksum, how string) error {
	if resp.Request == nil || resp.Request.URL == nil {
		return nil
	}
	if err := RequireChecksum(resp.Request.URL.String(), checksum, how); err != nil {
		return fmt.Errorf("redirected to plain http: %w", err)
	}
	return nil
}
