-- apache2::vhost renders one virtual host per app of node.apache.vhosts
-- (app name → {server_name, aliases, docroot, environment, port,
-- allow_override}); deploy::php and wordpress use the apache2.vhost
-- library directly instead. Kept for operators who want a vhost without
-- a deploy: set node.apache.vhosts in the stack JSON.
local vhost = require "apache2.vhost"
include_recipe "apache2::service"
for name, v in pairs(node.apache.vhosts or {}) do
  vhost.declare(name, {
    server_name = v.server_name, aliases = v.aliases, docroot = v.docroot,
    environment = function() return node.apache.vhosts[name].environment end,
  })
end
