-- wordpress::undeploy removes each WordPress app the event is about: its
-- releases, current and vhost. Uploads and salts on EFS are kept.
local app = require "deploy.app"
local site = require "wordpress.site"
include_recipe "apache2::service"
for _, name in ipairs(site.apps()) do
  app.undeploy(app.config(name))
end
