// Package cookbooks holds the cookbooks built into the binary. A site
// cookbook of the same name (in /etc/stackagent/cookbooks or a --cookbooks
// directory) replaces an embedded one.
package cookbooks

import "embed"

// FS holds one directory per cookbook (and this file, which the cookbook
// loader skips: only directories are cookbooks).
//
//go:embed *
var FS embed.FS
