-- The six wp-config.php values and the vhost's; bench/ansible/site.yml and
-- bench/puppet/site.pp carry the same values.
default.wordpress.db_name = "wordpress"
default.wordpress.db_user = "wp"
default.wordpress.db_password = "bench-secret"
default.wordpress.db_host = "localhost"
default.wordpress.table_prefix = "wp_"
default.wordpress.auth_key = "put-a-unique-phrase-here"
default.wordpress.server_name = "wordpress.example.com"
default.wordpress.docroot = "/srv/www/wordpress"
