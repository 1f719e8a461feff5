-- PHP for Apache. php.handler is "fpm" (the default: php-fpm, reached
-- through proxy_fcgi, event MPM) or "mod_php" (Apache runs PHP in its own
-- processes, prefork MPM; Debian family only). Under fpm a deploy switches
-- current without reloading Apache or php-fpm (docs/wordpress.md).
-- Amazon Linux 2023 and RHEL ship no mod_php: fpm there.
local pv = node.platform_version or ""
if platform_family_is("debian") then
  local versions = { ["11"] = "7.4", ["12"] = "8.2", ["13"] = "8.4", ["20.04"] = "7.4", ["22.04"] = "8.1", ["24.04"] = "8.3" }
  default.php.version = versions[pv:match("^%d+%.%d+") or ""] or versions[pv:match("^%d+") or ""] or "8.2"
  default.php.handler = "fpm"
  local v = node.php.version
  default.php.packages = { "php" .. v, "php" .. v .. "-cli" }
  default.php.mod_php_packages = { "libapache2-mod-php" .. v }
  default.php.fpm_packages = { "php" .. v .. "-fpm" }
  -- The extensions WordPress needs or recommends (mysqli, curl, gd,
  -- mbstring, xml/dom, zip, intl; exif, fileinfo and opcache come with
  -- php-common / the base package).
  default.php.extension_packages = {
    "php" .. v .. "-mysql", "php" .. v .. "-curl", "php" .. v .. "-gd", "php" .. v .. "-mbstring",
    "php" .. v .. "-xml", "php" .. v .. "-zip", "php" .. v .. "-intl",
  }
  -- Where the php.ini fragment goes, per SAPI.
  default.php.ini_dirs = {
    mod_php = { "/etc/php/" .. v .. "/apache2/conf.d", "/etc/php/" .. v .. "/cli/conf.d" },
    fpm = { "/etc/php/" .. v .. "/fpm/conf.d", "/etc/php/" .. v .. "/cli/conf.d" },
  }
  default.php.fpm_service = "php" .. v .. "-fpm"
  default.php.fpm_socket = "/run/php/php" .. v .. "-fpm.sock"
  default.php.fpm_global_conf = "/etc/php/" .. v .. "/fpm/pool.d/zz-stackagent-global.conf"
  -- The Apache module mod_php registers, and the conf a2enconf enables
  -- for php-fpm.
  default.php.apache_module = "php" .. v
  default.php.apache_fpm_conf = "php" .. v .. "-fpm"
else
  default.php.version = "8.2"
  default.php.handler = "fpm"
  local v = node.php.version
  default.php.packages = { "php" .. v, "php" .. v .. "-cli" }
  default.php.mod_php_packages = {}
  default.php.fpm_packages = { "php" .. v .. "-fpm" }
  default.php.extension_packages = {
    "php" .. v .. "-mysqlnd", "php" .. v .. "-gd", "php" .. v .. "-mbstring", "php" .. v .. "-xml",
    "php" .. v .. "-intl", "php" .. v .. "-opcache",
  }
  default.php.ini_dirs = { mod_php = { "/etc/php.d" }, fpm = { "/etc/php.d" } }
  default.php.fpm_service = "php-fpm"
  default.php.fpm_socket = "/run/php-fpm/www.sock"
  default.php.fpm_global_conf = "/etc/php-fpm.d/zz-stackagent-global.conf"
end

-- Where php-fpm is not managed by systemd: its init script, when it is
-- not /etc/init.d/<fpm_service> (default nil).
-- default.php.fpm_init_command = "/etc/init.d/php8.2-fpm"

-- php-fpm (handler "fpm") is watched by the agent's watchdog like
-- Apache; false: not watched. Its pid file, when the init system is not
-- systemd (the default: /run/php/php<version>-fpm.pid on Debian).
default.php.fpm_watch = true
-- default.php.fpm_pid_file = "/run/php/php8.2-fpm.pid"

-- php-fpm's [global] settings of the agent's (fpm_global_conf, a file
-- php-fpm.conf includes): on a reload (a php.ini change), php-fpm lets
-- requests in flight finish for up to this many seconds before it stops
-- its workers; its own default, 0, cuts them at once.
default.php.fpm_process_control_timeout = 10

-- More packages of your own (extensions such as php8.2-imagick, php8.2-redis).
default.php.extra_packages = {}

-- php.ini settings, written as 99-stackagent.ini into each of the
-- handler's ini_dirs. Keys are php.ini directives; set one to false to
-- leave it out.
default.php.ini["memory_limit"] = "256M"
default.php.ini["upload_max_filesize"] = "64M"
default.php.ini["post_max_size"] = "64M"
default.php.ini["max_execution_time"] = 60
default.php.ini["max_input_vars"] = 3000
default.php.ini["expose_php"] = "Off"
default.php.ini["date.timezone"] = "UTC"
default.php.ini["opcache.enable"] = 1
default.php.ini["opcache.memory_consumption"] = 128
default.php.ini["opcache.max_accelerated_files"] = 10000
default.php.ini["opcache.revalidate_freq"] = 2
-- Releases are switched by a symlink (current), without a reload: opcache
-- keys each script by its real path (revalidate_path), so a new release
-- is compiled afresh, never served from the old one's cache, and each
-- PHP process sees the new current once its realpath cache entry
-- (realpath_cache_ttl seconds) expires. A request runs wholly in one
-- release: __FILE__ and __DIR__ are real paths.
default.php.ini["opcache.revalidate_path"] = 1
default.php.ini["realpath_cache_ttl"] = 2
