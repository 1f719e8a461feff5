-- apache2::default installs Apache, enables its modules, writes the
-- listening ports and the server-wide settings, disables the
-- distribution's default site, and enables and starts the service. Setup
-- runs it; a second run changes nothing.
local apache = node.apache
local checks = require "apache2.checks"
checks.server(apache)
include_recipe "apache2::service"

package(apache.package)

directory(apache.log_dir) { mode = "0755" }

if apache.layout == "debian" then
  -- a2enmod knows each module's dependencies and .conf; creates makes it
  -- run only for a module that is not enabled yet.
  for i, mod in ipairs(apache.modules) do
    validate.module(mod, "node.apache.modules[" .. i .. "]")
    execute("a2enmod " .. mod) {
      command = { "a2enmod", "-q", mod },
      creates = apache.mods_enabled .. "/" .. mod .. ".load",
      notifies = { "restart", "service[apache2]", "delayed" },
    }
  end
end

template(apache.ports_file) {
  source = "ports.conf.erb",
  mode = "0644",
  variables = { ports = apache.listen_ports, builtin = apache.builtin_listen },
  notifies = { "restart", "service[apache2]", "delayed" },
}

template(apache.conf_file) {
  source = "stackagent.conf.erb",
  mode = "0644",
  notifies = { "reload", "service[apache2]", "delayed" },
}

if apache.layout == "debian" then
  link(apache.conf_enabled) {
    to = "../conf-available/stackagent.conf",
    notifies = { "reload", "service[apache2]", "delayed" },
  }
  link(apache.sites_enabled .. "/000-default.conf") {
    to = "../sites-available/000-default.conf",
    action = apache.default_site_enabled and "create" or "delete",
    notifies = { "reload", "service[apache2]", "delayed" },
  }
else
  -- httpd's welcome page answers for every unknown host otherwise.
  file "/etc/httpd/conf.d/welcome.conf" {
    action = apache.default_site_enabled and "nothing" or "delete",
    notifies = { "reload", "service[apache2]", "delayed" },
  }
end

-- Mark Apache watched by the agent's watchdog (docs/autoheal.md); the
-- deploy and wordpress cookbooks add a web check per app.
if apache.watch then
  node.default.stackagent.watch.services.apache2 = {
    init = apache.service, init_command = apache.init_command,
    pidfile = apache.pid_file, process = apache.process,
  }
else
  node.default.stackagent.watch.services.apache2 = false
end

service "apache2 (enable and start)" {
  service_name = apache.service,
  init_command = apache.init_command,
  supports = { status = true, restart = true, reload = true },
  action = { "enable", "start" },
}
