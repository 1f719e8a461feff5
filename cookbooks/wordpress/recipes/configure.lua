-- wordpress::configure (the stack changed: an instance came or went, the
-- database moved, a secret rotated) renders wp-config.php and the vhost
-- again; Apache reloads only if one changed.
local app = require "deploy.app"
local site = require "wordpress.site"
local vhost = require "apache2.vhost"
include_recipe "apache2::service"
include_recipe "efs::default"
for _, name in ipairs(site.apps()) do
  local c = app.config(name)
  app.layout(c, site.deploy_options(c).writable)
  site.declare_config(c)
  local aliases = {}
  for i = 2, #c.domains do aliases[#aliases + 1] = c.domains[i] end
  vhost.declare(name, {
    server_name = c.domains[1], aliases = aliases, docroot = c.docroot,
    environment = function() return app.environment(name) end,
  })
end
