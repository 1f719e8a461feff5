-- wordpress::configure (the stack changed: an instance came or went, the
-- database moved, a secret rotated) renders wp-config.php and the vhost
-- again; Apache reloads only if one changed. Turning a site into a
-- Multisite network (node.deploy.<app>.wordpress.multisite) is this
-- event: the network's defines and the vhost's rewrite rules.
local app = require "deploy.app"
local site = require "wordpress.site"
include_recipe "apache2::service"
include_recipe "efs::default"
for _, name in ipairs(site.apps()) do
  local c = app.config(name)
  app.layout(c, site.deploy_options(c).writable)
  site.declare_config(c)
  app.declare_vhost(c, site.vhost_options(c))
end
