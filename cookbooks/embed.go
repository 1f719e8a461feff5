// Package cookbooks holds the cookbooks built into the binary. A site
// cookbook of the same name (in /etc/stackagent/cookbooks or a --cookbooks
// directory) replaces an embedded one.
package cookbooks

import "embed"

// FS holds one directory per cookbook.
//
//go:embed */metadata.json */recipes */attributes
var FS embed.FS
