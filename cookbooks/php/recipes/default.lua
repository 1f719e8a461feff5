-- php::default installs PHP for Apache and the extensions WordPress needs,
-- wires it into Apache (mod_php, or php-fpm through proxy_fcgi when
-- node.php.handler is "fpm") and writes node.php.ini as a php.ini
-- fragment. Setup runs it after apache2; a second run changes nothing.
local php, apache = node.php, node.apache
local checks = require "apache2.checks"
include_recipe "apache2::service"
local fpm = php.handler == "fpm"
if php.handler ~= "fpm" and php.handler ~= "mod_php" then
  error("node.php.handler is " .. tostring(php.handler) .. ": want mod_php or fpm")
end
validate.word(php.version, "node.php.version")
if apache.layout == "debian" then
  validate.module(php.apache_module, "node.php.apache_module")
  validate.module(php.apache_fpm_conf, "node.php.apache_fpm_conf")
  validate.path(apache.dir, "node.apache.dir")
  validate.path(apache.mods_enabled, "node.apache.mods_enabled")
end
if fpm then checks.service(php.fpm_service, php.fpm_init_command, "node.php.fpm") end
if php.fpm_pid_file ~= nil then validate.path(php.fpm_pid_file, "node.php.fpm_pid_file") end

local pkgs = {}
-- An empty list set in Lua ({}) reads back as an empty attribute table.
local function add(list, key)
  if type(list) ~= "table" then return end
  for i, p in ipairs(list) do pkgs[#pkgs + 1] = validate.package(p, "node.php." .. key .. "[" .. i .. "]") end
end
add(php.packages, "packages")
add(fpm and php.fpm_packages or php.mod_php_packages, fpm and "fpm_packages" or "mod_php_packages")
add(php.extension_packages, "extension_packages")
add(php.extra_packages, "extra_packages")
package(pkgs) {
  notifies = { "restart", "service[apache2]", "delayed" },
}

if fpm and php.fpm_watch then
  local pidfile = php.fpm_pid_file
  if pidfile == nil and platform_family_is("debian") then
    pidfile = "/run/php/php" .. php.version .. "-fpm.pid"
  elseif pidfile == nil then
    pidfile = "/run/php-fpm/php-fpm.pid"
  end
  node.default.stackagent.watch.services["php-fpm"] = {
    init = php.fpm_service, init_command = php.fpm_init_command, pidfile = pidfile,
  }
else
  node.default.stackagent.watch.services["php-fpm"] = false
end

if fpm then
  validate.path(php.fpm_global_conf, "node.php.fpm_global_conf")
  -- The package makes it; here too, so a run under --root works alone.
  directory(php.fpm_global_conf:match("^(.*)/[^/]+$")) { mode = "0755", recursive = true }
  template(php.fpm_global_conf) {
    source = "php-fpm-global.conf.erb",
    mode = "0644",
    variables = {
      process_control_timeout = validate.integer(php.fpm_process_control_timeout, "node.php.fpm_process_control_timeout", 0, 3600),
    },
    notifies = { "reload", "service[php-fpm]", "delayed" },
  }
  service "php-fpm" {
    service_name = php.fpm_service,
    init_command = php.fpm_init_command,
    supports = { status = true, restart = true, reload = true },
    action = { "enable", "start" },
  }
end

if apache.layout == "debian" then
  local mods = apache.mods_enabled
  -- Each command is argv (no shell); each guard a Lua function.
  local function dismod(m)
    execute("a2dismod " .. m) {
      command = { "a2dismod", "-q", "-f", m },
      only_if = function() return file_exists(mods .. "/" .. m .. ".load") end,
      notifies = { "restart", "service[apache2]", "delayed" },
    }
  end
  local function enmod(m)
    execute("a2enmod " .. m) {
      command = { "a2enmod", "-q", m },
      creates = mods .. "/" .. m .. ".load",
      notifies = { "restart", "service[apache2]", "delayed" },
    }
  end
  if fpm then
    -- php-fpm: the threaded event MPM, proxy_fcgi, and the conf the
    -- php-fpm package ships (SetHandler proxy:unix:…sock for .php).
    dismod(php.apache_module)
    dismod("mpm_prefork")
    dismod("mpm_worker")
    enmod("mpm_event")
    enmod("proxy_fcgi")
    enmod("setenvif")
    execute("a2enconf " .. php.apache_fpm_conf) {
      command = { "a2enconf", "-q", php.apache_fpm_conf },
      creates = apache.dir .. "/conf-enabled/" .. php.apache_fpm_conf .. ".conf",
      notifies = { "restart", "service[apache2]", "delayed" },
    }
  else
    -- mod_php is not thread-safe: prefork MPM.
    execute("a2disconf " .. php.apache_fpm_conf) {
      command = { "a2disconf", "-q", php.apache_fpm_conf },
      only_if = function() return file_exists(apache.dir .. "/conf-enabled/" .. php.apache_fpm_conf .. ".conf") end,
      notifies = { "restart", "service[apache2]", "delayed" },
    }
    dismod("mpm_event")
    dismod("mpm_worker")
    enmod("mpm_prefork")
    enmod(php.apache_module)
  end
end

for k, v in pairs(php.ini) do
  validate.word(k, "node.php.ini key")
  if type(v) ~= "boolean" then validate.line(v, "node.php.ini." .. k) end
end
for i, dir in ipairs(php.ini_dirs[php.handler]) do
  validate.path(dir, "node.php.ini_dirs." .. php.handler .. "[" .. i .. "]")
  directory(dir) { mode = "0755", recursive = true }
  template(dir .. "/99-stackagent.ini") {
    source = "php.ini.erb",
    mode = "0644",
    variables = { ini = php.ini },
    -- php-fpm reads php.ini, Apache does not (fpm); mod_php is Apache.
    notifies = fpm and { "reload", "service[php-fpm]", "delayed" } or { "reload", "service[apache2]", "delayed" },
  }
end
