-- apache2.vhost: one Apache virtual host per app. Used by deploy::php,
-- the wordpress recipes and apache2::vhost:
--
--   local vhost = require "apache2.vhost"
--   vhost.declare("wordpress", {
--     server_name = "www.example.com", aliases = { "example.com" },
--     docroot = "/srv/www/wordpress/current",
--     environment = function() return node.deploy.wordpress.environment end,
--   })
--
-- extra is text for the <VirtualHost>, directory_extra for the document
-- root's <Directory> (per-directory context: .htaccess-style rewrite
-- rules, as WordPress Multisite's).
--
-- environment is a function called at converge time, so a secret
-- reference among the values is resolved then (and hidden in output).
-- The file is 0640 root:root since SetEnv values may be secrets; Apache
-- reads its configuration as root.
local M = {}

-- path is where the app's virtual host lives.
function M.path(name)
  validate.name(name, "apache2.vhost app", "app name")
  return node.apache.sites_available .. "/" .. name .. ".conf"
end

-- quote makes s an Apache double-quoted argument.
function M.quote(s)
  s = tostring(s)
  if s:find("[%c]") or s:find("\\$") then
    error("a value for SetEnv cannot hold a line break or control character, nor end in \\", 2)
  end
  -- Apache unescapes only \" inside a quoted argument.
  return '"' .. s:gsub('"', '\\"') .. '"'
end

-- env_list turns an environment map (a node view or a Lua table) into a
-- list of {name, value} sorted by name.
function M.env_list(env)
  local out = {}
  for k, v in pairs(env or {}) do
    if type(v) == "table" or type(v) == "userdata" then
      error("environment variable " .. k .. " must be a string, number or boolean", 2)
    end
    if not tostring(k):match("^[%a_][%w_]*$") then
      error("environment variable name " .. tostring(k) .. " is not a valid name", 2)
    end
    out[#out + 1] = { name = k, value = M.quote(v) }
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

local function strings(list)
  local out = {}
  if type(list) ~= "table" then return out end
  for _, v in ipairs(list) do out[#out + 1] = tostring(v) end
  return out
end

-- declare renders the app's virtual host and, on the Debian family,
-- enables it; either change reloads Apache (delayed, once).
function M.declare(name, o)
  local apache = node.apache
  local path = M.path(name)
  local where = "vhost of app " .. name
  local server_name = validate.domain(o.server_name or node.fqdn or node.hostname or "localhost", where .. ": server_name")
  local aliases = strings(o.aliases)
  for i, a in ipairs(aliases) do aliases[i] = validate.domain(a, where .. ": aliases[" .. i .. "]", { wildcard = true }) end
  local docroot = validate.path(o.docroot, where .. ": docroot")
  local port = validate.port(o.port or apache.vhost_port, where .. ": port")
  local allow_override = validate.line(o.allow_override or apache.allow_override, where .. ": allow_override")
  validate.path(apache.log_dir, "node.apache.log_dir")
  -- An optional web check of the app by the agent's watchdog
  -- (node.apache.health_checks[name] = {path = "/", status = 200,
  -- timeout = 5}): GET 127.0.0.1 with Host server_name; failing checks
  -- restart Apache (docs/autoheal.md).
  local hc = o.health_check or (apache.health_checks or {})[name]
  if hc then
    node.default.stackagent.watch.http[name] = {
      service = "apache2", host = server_name, port = port,
      path = hc.path or "/", status = hc.status or 200, timeout = hc.timeout or 5,
    }
  end
  template(path) {
    source = "vhost.conf.erb",
    cookbook = "apache2",
    owner = apache.config_owner, group = apache.config_group, mode = "0640",
    variables = lazy(function()
      local env = o.environment and o.environment() or {}
      return {
        app = name, server_name = server_name, aliases = aliases, docroot = docroot, port = port,
        allow_override = allow_override, log_dir = apache.log_dir, environment = M.env_list(env),
        extra = o.extra or "", directory_extra = o.directory_extra or "",
      }
    end),
    notifies = { "reload", "service[apache2]", "delayed" },
  }
  if apache.layout == "debian" then
    link(apache.sites_enabled .. "/" .. name .. ".conf") {
      to = "../sites-available/" .. name .. ".conf",
      notifies = { "reload", "service[apache2]", "delayed" },
    }
  end
end

-- remove deletes the app's virtual host (undeploy).
function M.remove(name)
  local apache = node.apache
  if apache.layout == "debian" then
    link(apache.sites_enabled .. "/" .. name .. ".conf") {
      action = "delete",
      notifies = { "reload", "service[apache2]", "delayed" },
    }
  end
  file(M.path(name)) {
    action = "delete",
    notifies = { "reload", "service[apache2]", "delayed" },
  }
end

return M
