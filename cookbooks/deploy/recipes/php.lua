-- deploy::php deploys the PHP apps of node.deploy (application_type
-- "php", or none given) that the event is about — all of them when it
-- names no app: a new release behind the atomic current symlink, shared
-- dirs linked in, one Apache vhost per app. The event's command picks
-- the action: deploy (default), rollback (to node.stackagent.event.
-- rollback_to, else the previous release), undeploy, or start, stop,
-- restart (Apache).
local app = require "deploy.app"
for _, name in ipairs(app.selected(app.is_php)) do
  app.declare(app.config(name), {})
end
