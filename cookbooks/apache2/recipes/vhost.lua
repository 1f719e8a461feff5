-- apache2::vhost renders one virtual host per app of node.apache.vhosts
-- (app name → {server_name, aliases, docroot, environment, port,
-- allow_override}); deploy::php and wordpress declare the apache2_vhost
-- resource directly instead. Kept for operators who want a vhost without
-- a deploy: set node.apache.vhosts in the stack JSON.
local checks = require "apache2.checks"
include_recipe "apache2::service"
for name, v in pairs(node.apache.vhosts or {}) do
  local w = "node.apache.vhosts." .. validate.name(name, "node.apache.vhosts", "app name")
  if v.server_name ~= nil then validate.domain(v.server_name, w .. ".server_name") end
  checks.list(v.aliases, w .. ".aliases", function(a, where) validate.domain(a, where, { wildcard = true }) end)
  validate.path(v.docroot, w .. ".docroot")
  require("apache2.watch").vhost(name, v.server_name)
  apache2_vhost(name) {
    server_name = v.server_name, aliases = v.aliases, docroot = v.docroot,
    environment = lazy(function() return node.apache.vhosts[name].environment end),
    notifies = { "reload", "service[apache2]", "delayed" },
  }
end
