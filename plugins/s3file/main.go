// Command s3file is a stackagent resource-provider plugin, and the example
// of how to write one (docs/plugins.md). It provides s3_file: download an
// S3 object to a path, idempotently.
//
//	s3_file "/srv/www/wordpress/shared/wp-content/uploads.tar.gz" {
//	  bucket = "my-site-assets", key = "uploads.tar.gz", mode = "0640",
//	}
//
// The file is up to date when its content matches the object: its SHA-256
// equals the checksum property when one is given, else its MD5 equals the
// object's ETag (single-part uploads), else the ETag recorded when the
// file was last downloaded (multipart uploads; kept in the extended
// attribute user.stackagent.s3_etag). A download goes to a temporary file
// in the same directory, is verified, then renamed over the target.
package main

import "github.com/stackagent/stackagent/proto/sdk"

func main() { sdk.Serve(&provider{}) }
