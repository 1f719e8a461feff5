-- wordpress::setup (after apache2 and php in the setup run list) mounts
-- EFS when the stack has one and lays out each WordPress app's
-- directories, shared config (wp-config.php, salts.php) and uploads, so
-- the first deploy only has to fetch the code.
local app = require "deploy.app"
local site = require "wordpress.site"
include_recipe "efs::default"
for _, name in ipairs(site.apps()) do
  local c = app.config(name)
  app.layout(c, site.deploy_options(c).writable)
  site.declare_config(c)
end
