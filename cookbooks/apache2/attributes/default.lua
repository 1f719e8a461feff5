-- Apache HTTP Server. Package, service, paths and the web server's user
-- differ between the Debian family (apache2, /etc/apache2, www-data,
-- sites-available + sites-enabled, a2enmod) and the rpm families — Amazon
-- Linux 2023, RHEL and its rebuilds, Fedora (httpd, /etc/httpd, apache,
-- conf.d, modules loaded by conf.modules.d).
if platform_family_is("debian") then
  default.apache.package = "apache2"
  default.apache.service = "apache2"
  default.apache.dir = "/etc/apache2"
  default.apache.log_dir = "/var/log/apache2"
  default.apache.user = "www-data"
  default.apache.group = "www-data"
  default.apache.layout = "debian"
  default.apache.ports_file = "/etc/apache2/ports.conf"
  default.apache.conf_file = "/etc/apache2/conf-available/stackagent.conf"
  default.apache.conf_enabled = "/etc/apache2/conf-enabled/stackagent.conf"
  default.apache.sites_available = "/etc/apache2/sites-available"
  default.apache.sites_enabled = "/etc/apache2/sites-enabled"
  default.apache.mods_enabled = "/etc/apache2/mods-enabled"
  -- Listen lines the distribution's main config already has (none: on
  -- Debian ports.conf, which this cookbook writes, holds them all).
  default.apache.builtin_listen = {}
  default.apache.pid_file = "/var/run/apache2/apache2.pid"
  default.apache.process = "apache2"
else
  default.apache.package = "httpd"
  default.apache.service = "httpd"
  default.apache.dir = "/etc/httpd"
  default.apache.log_dir = "/var/log/httpd"
  default.apache.user = "apache"
  default.apache.group = "apache"
  default.apache.layout = "rhel"
  default.apache.ports_file = "/etc/httpd/conf.d/00-stackagent-ports.conf"
  default.apache.conf_file = "/etc/httpd/conf.d/00-stackagent.conf"
  default.apache.sites_available = "/etc/httpd/conf.d"
  -- httpd.conf has "Listen 80" itself; a second one is a startup error.
  default.apache.builtin_listen = { 80 }
  default.apache.pid_file = "/run/httpd/httpd.pid"
  default.apache.process = "httpd"
end

-- The agent's watchdog checks Apache (its pid file, without spawning a
-- process) every watch_interval and restarts it when it dies; false: not
-- watched. See docs/autoheal.md.
default.apache.watch = true

-- Where the service is not managed by systemd: the init script, when it
-- is not /etc/init.d/<service> (default nil).
-- default.apache.init_command = "/etc/init.d/apache2"

-- Ports Apache listens on; each app's virtual host is on apache.vhost_port.
default.apache.listen_ports = { 80 }
default.apache.vhost_port = 80

-- Modules enabled with a2enmod on the Debian family (the rpm families load
-- these by default from conf.modules.d). The MPM is the php cookbook's.
default.apache.modules = { "rewrite", "headers", "expires", "deflate", "setenvif", "alias", "dir", "mime" }

-- The distribution's default site ("It works!") is disabled unless true.
default.apache.default_site_enabled = false

-- Server-wide settings (apache.conf_file).
default.apache.server_tokens = "Prod"
default.apache.server_signature = "Off"
default.apache.trace_enable = "Off"
default.apache.timeout = 60
default.apache.keepalive = "On"
-- Longer than the load balancer's idle timeout (an ALB's is 60 s), so the
-- load balancer closes an idle connection, never Apache just as the load
-- balancer sends a request on it (a 502). The event MPM (php-fpm, the
-- default) keeps idle connections without a worker; under mod_php
-- (prefork) each holds a process: lower it there.
default.apache.keepalive_timeout = 65
default.apache.max_keepalive_requests = 100
-- The ServerName of the server itself, so apache2ctl does not warn.
default.apache.server_name = "localhost"

-- Owner of the config files this cookbook writes (vhosts are 0640).
default.apache.config_owner = "root"
default.apache.config_group = "root"

-- Per virtual host: AllowOverride of the document root (WordPress's
-- permalinks need .htaccess, hence All).
default.apache.allow_override = "All"

-- Per app, an optional web check by the agent's watchdog: app name →
-- {path, status, timeout}; failing checks restart Apache. None by default.
-- default.apache.health_checks.wordpress = { path = "/wp-login.php", status = 200, timeout = 5 }
