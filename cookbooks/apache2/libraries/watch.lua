-- apache2.watch: an app's optional web check by the agent's watchdog
-- (node.apache.health_checks[app] = {path = "/", status = 200,
-- timeout = 5}): GET 127.0.0.1 with Host server_name; failing checks
-- restart Apache (docs/autoheal.md). The apache2_vhost resource
-- registers it when it converges; deploy::php, wordpress and
-- apache2::vhost also at compile time, so a run that fails before the
-- vhost converges keeps the check.
local M = {}

-- vhost registers app's check, if it has one; server_name and port
-- default as the vhost's do.
function M.vhost(app, server_name, port, health_check)
  local apache = node.apache
  local hc = health_check or (apache.health_checks or {})[app]
  if not hc then return end
  local where = "vhost of app " .. app
  node.default.stackagent.watch.http[app] = {
    service = "apache2",
    host = validate.domain(server_name or node.fqdn or node.hostname or "localhost", where .. ": server_name"),
    port = validate.port(port or apache.vhost_port, where .. ": port"),
    path = hc.path or "/", status = hc.status or 200, timeout = hc.timeout or 5,
  }
end

return M
