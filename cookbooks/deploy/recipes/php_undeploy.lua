-- deploy::php_undeploy removes the PHP apps the event is about: their
-- releases, current and vhost. A shared dir on EFS is kept.
local app = require "deploy.app"
include_recipe "apache2::service"
for _, name in ipairs(app.selected(app.is_php)) do
  app.undeploy(app.config(name))
end
