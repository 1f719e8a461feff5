-- WordPress defaults. Each app may override any of these in
-- node.deploy.<app>.wordpress (e.g. {"table_prefix": "blog_"}).
default.wordpress.table_prefix = "wp_"
default.wordpress.db_charset = "utf8mb4"
default.wordpress.db_collate = ""
-- WP_HOME and WP_SITEURL: node.deploy.<app>.wordpress.home / siteurl, else
-- scheme://<first domain>; without domains WordPress keeps its own.
default.wordpress.scheme = "http"
-- Behind a load balancer that terminates TLS: trust X-Forwarded-Proto so
-- WordPress knows the request was https.
default.wordpress.forwarded_proto = true
-- More define()s for wp-config.php (name → string, number or boolean; a
-- value may be a secret reference). The app's defines are merged over
-- these. Code comes from deploys, so the theme/plugin editor is off.
default.wordpress.defines.DISALLOW_FILE_EDIT = true
default.wordpress.defines.WP_DEBUG = false
-- The shared dirs of every WordPress release (linked to shared/<path>,
-- writable by the web server, on EFS when configured).
default.wordpress.shared_dirs = { "wp-content/uploads" }

-- wp-config.php and salts.php are 0640 this owner and the web server's
-- group (node.apache.group): Apache reads them, cannot change them.
default.wordpress.config_owner = "root"
