-- wpbench::default: a WordPress web host, the benchmark's spec. The same
-- host is described by bench/ansible/site.yml and bench/puppet/site.pp;
-- all three render byte-identical files.
local wp = node.wordpress

package { "apache2", "php", "libapache2-mod-php", "php-mysql" }

service "apache2" {
  action = { "enable", "start" },
  -- running is read from the pid file and /proc (no init script call)
  pid_file = "/var/run/apache2/apache2.pid",
}

directory "/srv/www/wordpress/shared/uploads" {
  owner = "www-data", group = "www-data", mode = "0755", recursive = true,
}

template "/srv/www/wordpress/shared/wp-config.php" {
  source = "wp-config.php.erb", owner = "root", group = "www-data", mode = "0640",
  sensitive = true,
  variables = {
    db_name = wp.db_name, db_user = wp.db_user, db_password = wp.db_password,
    db_host = wp.db_host, table_prefix = wp.table_prefix, auth_key = wp.auth_key,
  },
}

template "/etc/apache2/sites-available/wordpress.conf" {
  source = "wordpress.conf.erb", owner = "root", group = "root", mode = "0644",
  variables = { server_name = wp.server_name, docroot = wp.docroot },
  notifies = { "reload", "service[apache2]", "delayed" },
}

link "/etc/apache2/sites-enabled/wordpress.conf" {
  to = "/etc/apache2/sites-available/wordpress.conf",
  notifies = { "reload", "service[apache2]", "delayed" },
}
