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

-- WordPress Multisite (node.deploy.<app>.wordpress.multisite, each key
-- over these): enabled turns the app into a network — its define()s in
-- wp-config.php, WordPress's rewrite rules in the vhost, and for type
-- "subdomain" the alias *.<domain>. domain_current_site defaults to the
-- app's first domain without "www."; cookie_domain (a string, or false
-- for host-only cookies) to ".<domain>" for subdomain networks and to
-- WordPress's own (host-only) for subdirectory ones. See
-- docs/wordpress.md, "Several apps and Multisite".
default.wordpress.multisite.enabled = false
default.wordpress.multisite.type = "subdirectory"
default.wordpress.multisite.path_current_site = "/"
default.wordpress.multisite.site_id = 1
default.wordpress.multisite.blog_id = 1
