-- apache2_vhost (short: vhost): one Apache virtual host per app, as
-- deploy::php, the wordpress recipes and apache2::vhost declare it:
--
--   apache2_vhost "wordpress" {
--     server_name = "www.example.com", aliases = { "example.com" },
--     docroot = "/srv/www/wordpress/current",
--     environment = lazy(function() return node.deploy.wordpress.environment end),
--     notifies = { "reload", "service[apache2]", "delayed" },
--   }
--
-- The resource is updated iff its file or (Debian family) its
-- sites-enabled link changed: notify Apache from it, as above.
-- extra is text for the <VirtualHost>, directory_extra for the document
-- root's <Directory> (per-directory context: .htaccess-style rewrite
-- rules, as WordPress Multisite's). environment is read at converge
-- time (lazy), so a secret reference among the values is resolved then;
-- the property is sensitive and the file is 0640 root:root since SetEnv
-- values may be secrets (Apache reads its configuration as root).
-- server_name, port and allow_override default to the host's FQDN,
-- node.apache.vhost_port and node.apache.allow_override.

-- check turns a validate function into a property callback.
local function check(fn, where, opts)
  return function(v) fn(v, where, opts); return true end
end

local function each(fn, where, opts)
  return function(list)
    for i, v in ipairs(list) do fn(v, where .. "[" .. i .. "]", opts) end
    return true
  end
end

property "app" { type = "string", name_property = true,
  callbacks = { ["must be an app name"] = function(v) validate.name(v, "apache2_vhost app", "app name"); return true end } }
property "server_name" { type = "string", callbacks = { ["must be a host name"] = check(validate.domain, "server_name") } }
property "aliases" { type = "table", default = {},
  callbacks = { ["must be host names (*. allowed)"] = each(validate.domain, "aliases", { wildcard = true }) } }
property "docroot" { type = "string", callbacks = { ["must be a clean absolute path"] = check(validate.path, "docroot") } }
property "port" { callbacks = { ["must be a port"] = check(validate.port, "port") } }
property "allow_override" { type = "string", callbacks = { ["must be one line"] = check(validate.line, "allow_override") } }
property "environment" { type = "table", sensitive = true }
property "extra" { type = "string", default = "" }
property "directory_extra" { type = "string", default = "" }
property "health_check" { type = "table" }

default_action "create"

-- quote makes s, the value of variable k, an Apache double-quoted
-- argument.
local function quote(k, s)
  s = tostring(s)
  if s:find("[%c]") or s:find("\\$") then
    error("environment variable " .. k .. ": a value for SetEnv cannot hold a line break or control character, nor end in \\", 0)
  end
  -- Apache unescapes only \" inside a quoted argument.
  return '"' .. s:gsub('"', '\\"') .. '"'
end

-- env_list turns an environment map into a list of {name, value} sorted
-- by name.
local function env_list(env)
  local out = {}
  for k, v in pairs(env or {}) do
    if not tostring(k):match("^[%a_][%w_]*$") then
      error(string.format("environment variable name %q is not a valid name ([A-Za-z_][A-Za-z0-9_]*)", tostring(k)), 0)
    end
    if type(v) == "table" or type(v) == "userdata" then
      error("environment variable " .. k .. " must be a string, number or boolean", 0)
    end
    out[#out + 1] = { name = k, value = quote(k, v) }
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

local function conf_path(r)
  return node.apache.sites_available .. "/" .. r.app .. ".conf"
end

action "create" (function(r)
  local apache = node.apache
  local name = r.app
  local where = "vhost of app " .. name
  if r.docroot == nil then error(where .. ": docroot is required for action create", 0) end
  local server_name = validate.domain(r.server_name or node.fqdn or node.hostname or "localhost", where .. ": server_name")
  local aliases = {}
  for i, a in ipairs(r.aliases) do aliases[i] = validate.domain(tostring(a), where .. ": aliases[" .. i .. "]", { wildcard = true }) end
  local port = validate.port(r.port or apache.vhost_port, where .. ": port")
  local allow_override = validate.line(r.allow_override or apache.allow_override, where .. ": allow_override")
  validate.path(apache.log_dir, "node.apache.log_dir")
  require("apache2.watch").vhost(name, server_name, port, r.health_check)
  template(conf_path(r)) {
    source = "vhost.conf.erb",
    owner = apache.config_owner, group = apache.config_group, mode = "0640",
    variables = {
      app = name, server_name = server_name, aliases = aliases, docroot = r.docroot, port = port,
      allow_override = allow_override, log_dir = apache.log_dir, environment = env_list(r.environment),
      extra = r.extra, directory_extra = r.directory_extra,
    },
  }
  if apache.layout == "debian" then
    link(apache.sites_enabled .. "/" .. name .. ".conf") { to = "../sites-available/" .. name .. ".conf" }
  end
end)

-- delete removes the app's virtual host (undeploy).
action "delete" (function(r)
  if node.apache.layout == "debian" then
    link(node.apache.sites_enabled .. "/" .. r.app .. ".conf") { action = "delete" }
  end
  file(conf_path(r)) { action = "delete" }
end)
