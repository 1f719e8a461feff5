-- wordpress::deploy deploys each WordPress app the event is about with
-- the deploy cookbook: shared config first (salts, wp-config.php), then a
-- release with wp-content/uploads and wp-config.php linked to the shared
-- dir, current switched atomically, the vhost, an Apache reload. The
-- event's command picks deploy, rollback, undeploy, start, stop, restart.
local app = require "deploy.app"
local site = require "wordpress.site"
for _, name in ipairs(site.apps()) do
  local c = app.config(name)
  app.declare(c, site.deploy_options(c))
end
