-- wordpress.site: the WordPress parts of a deploy — wp-config.php and the
-- salts, both in the app's shared config dir (on EFS when configured), so
-- every release and every instance reads the same ones. Each release
-- links wp-config.php to shared/config/wp-config.php; wp-config.php
-- requires salts.php next to it.
local app = require "deploy.app"
local checks = require "apache2.checks"
local M = {}

-- apps lists the WordPress apps the event is about: application_type
-- "wordpress", or an app named wordpress without a type.
function M.apps()
  return app.selected(function(name, s)
    local t = s.application_type
    return t == "wordpress" or (t == nil and name == "wordpress")
  end)
end

-- php returns a Lua value as a PHP literal of its type (validate.php:
-- null, true, false, a number, a single-quoted string with \\ and '
-- escaped); where names the attribute in an error.
function M.php(v, where)
  return validate.php(v, where or "wp-config.php value")
end

M.salt_names = { "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT" }

-- setting returns node.deploy.<app>.wordpress.<key>, else node.wordpress.<key>.
local function setting(name, key)
  local v = app.get(name, "wordpress", key)
  if v == nil then v = node.wordpress[key] end
  return v
end

-- multisite returns the app's WordPress Multisite network
-- (node.deploy.<app>.wordpress.multisite, each key over
-- node.wordpress.multisite), or nil when it is not enabled:
--   { type = "subdirectory" | "subdomain", subdomain = bool, domain,
--     path, site_id, blog_id, cookie_domain (a string, false, or nil) }
-- The domain defaults to the first of the app's domains without "www.",
-- as WordPress's Network Setup names the network.
function M.multisite(c)
  local function ms(key)
    local v = app.get(c.name, "wordpress", "multisite", key)
    if v == nil and node.wordpress.multisite then v = node.wordpress.multisite[key] end
    return v
  end
  if ms("enabled") ~= true then return nil end
  local where = "node.deploy." .. c.name .. ".wordpress.multisite"
  validate.name(c.name, "node.deploy", "app name")
  local t = ms("type") or "subdirectory"
  if t ~= "subdirectory" and t ~= "subdomain" then
    error(where .. ".type is " .. tostring(t) .. ": want subdirectory or subdomain")
  end
  local domain = ms("domain_current_site")
  if domain == nil and c.domains[1] then domain = c.domains[1]:gsub("^www%.", "") end
  if domain == nil or domain == "" then
    error(where .. ": set domain_current_site or the app's domains")
  end
  domain = validate.domain(domain, where .. ".domain_current_site")
  local path = tostring(ms("path_current_site") or "/")
  if not path:match("/$") then
    error(where .. ".path_current_site " .. path .. " must begin and end with /")
  end
  if path ~= "/" then validate.path(path:sub(1, -2), where .. ".path_current_site") end
  local cookie = ms("cookie_domain")
  if type(cookie) == "string" then
    validate.domain((cookie:gsub("^%.", "")), where .. ".cookie_domain")
  elseif cookie ~= nil and cookie ~= false then
    error(where .. ".cookie_domain: want a domain or false", 0)
  end
  if cookie == nil and t == "subdomain" then
    -- What WordPress itself uses for a subdomain network (its network's
    -- cookie_domain): the domain without "www.", so a login holds on
    -- every site of the network.
    cookie = "." .. domain:gsub("^www%.", "")
  end
  return {
    type = t, subdomain = t == "subdomain", domain = domain, path = path,
    site_id = validate.integer(ms("site_id") or 1, where .. ".site_id", 1), blog_id = validate.integer(ms("blog_id") or 1, where .. ".blog_id", 1),
    cookie_domain = cookie,
  }
end

-- multisite_defines are wp-config.php's Multisite define()s, in the
-- order WordPress's Network Setup lists them.
function M.multisite_defines(n)
  local d = {
    { name = "WP_ALLOW_MULTISITE", value = "true" },
    { name = "MULTISITE", value = "true" },
    { name = "SUBDOMAIN_INSTALL", value = M.php(n.subdomain) },
    { name = "DOMAIN_CURRENT_SITE", value = M.php(n.domain) },
    { name = "PATH_CURRENT_SITE", value = M.php(n.path) },
    { name = "SITE_ID_CURRENT_SITE", value = M.php(n.site_id) },
    { name = "BLOG_ID_CURRENT_SITE", value = M.php(n.blog_id) },
  }
  if n.cookie_domain ~= nil then
    d[#d + 1] = { name = "COOKIE_DOMAIN", value = M.php(n.cookie_domain) }
  end
  return d
end

-- rewrite_rules returns the rewrite rules WordPress documents for the
-- network type (https://wordpress.org/documentation/article/htaccess/,
-- as wp-admin/network.php prints them), for the vhost's <Directory> of
-- the document root, so no .htaccess needs them. RewriteOptions
-- InheritDownBefore applies them before any rules of a release's own
-- .htaccess (single-site WordPress rules would break the network).
function M.rewrite_rules(n)
  local sub, r01, r12 = "([_0-9a-zA-Z-]+/)?", "$1", "$2"
  if n.subdomain then sub, r01, r12 = "", "", "$1" end
  local lines = {
    "# WordPress Multisite, " .. n.type .. " network: the rules of",
    "# https://wordpress.org/documentation/article/htaccess/#multisite",
    "RewriteEngine On",
    "RewriteOptions InheritDownBefore",
    "RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]",
    "RewriteBase " .. n.path,
    "RewriteRule ^index\\.php$ - [L]",
    "",
    "# add a trailing slash to /wp-admin",
    "RewriteRule ^" .. sub .. "wp-admin$ " .. r01 .. "wp-admin/ [R=301,L]",
    "",
    "RewriteCond %{REQUEST_FILENAME} -f [OR]",
    "RewriteCond %{REQUEST_FILENAME} -d",
    "RewriteRule ^ - [L]",
    "RewriteRule ^" .. sub .. "(wp-(content|admin|includes).*) " .. r12 .. " [L]",
    "RewriteRule ^" .. sub .. "(.*\\.php)$ " .. r12 .. " [L]",
    "RewriteRule . index.php [L]",
  }
  for i, l in ipairs(lines) do
    if l ~= "" then lines[i] = "    " .. l end
  end
  return table.concat(lines, "\n")
end

-- vhost_options are what a WordPress app adds to its vhost: for a
-- network, its rewrite rules and, for a subdomain network, the wildcard
-- alias *.<domain> (each site is <name>.<domain>).
function M.vhost_options(c)
  local n = M.multisite(c)
  if n == nil then return {} end
  local o = { directory_extra = M.rewrite_rules(n), aliases = {} }
  if n.subdomain then o.aliases[1] = "*." .. n.domain end
  return o
end

local function defines_sources(name)
  return {
    { node.wordpress.defines, "node.wordpress.defines" },
    { app.get(name, "wordpress", "defines"), "node.deploy." .. name .. ".wordpress.defines" },
  }
end

-- check_defines checks the names of the app's define()s as PHP
-- identifiers (each goes into wp-config.php as define( 'NAME', … ))
-- without reading a value, so it runs at compile time.
function M.check_defines(name)
  for _, s in ipairs(defines_sources(name)) do validate.keys(s[1], s[2], "identifier") end
end

-- defines returns the app's define()s, name → {value, where}: those of
-- node.wordpress.defines with node.deploy.<app>.wordpress.defines over
-- them. Reading them resolves secret references: call it at converge
-- time.
function M.defines(name)
  M.check_defines(name)
  local out = {}
  for _, s in ipairs(defines_sources(name)) do
    for k, v in pairs(s[1] or {}) do out[k] = { value = v, where = s[2] .. "." .. k } end
  end
  return out
end

-- check validates at compile time what wp-config.php takes from the
-- app's settings without reading a secret: define names, the table
-- prefix, the URL scheme, home and siteurl.
function M.check(c)
  local w = "node.deploy." .. c.name .. ".wordpress"
  M.check_defines(c.name)
  local function where(key) return app.get(c.name, "wordpress", key) ~= nil and w .. "." .. key or "node.wordpress." .. key end
  validate.identifier(setting(c.name, "table_prefix"), where("table_prefix"))
  local scheme = setting(c.name, "scheme")
  if scheme ~= "http" and scheme ~= "https" then
    error(where("scheme") .. ": invalid scheme " .. tostring(scheme) .. ": want http or https", 0)
  end
  for _, key in ipairs({ "home", "siteurl" }) do
    local v = setting(c.name, key)
    if v ~= nil then validate.line(v, where(key)) end
  end
  validate.name(node.wordpress.config_owner, "node.wordpress.config_owner", "user name")
  checks.list(node.wordpress.shared_dirs, "node.wordpress.shared_dirs", validate.relpath)
  M.multisite(c)
end

-- config_vars are wp-config.php's variables, computed at converge time
-- (the database password is usually a secret reference).
function M.config_vars(c)
  local name = c.name
  local db = app.table_of(app.get(name, "database"))
  local host = db.host or "localhost"
  if db.port and tonumber(db.port) ~= 3306 then host = host .. ":" .. tostring(db.port) end
  local network = M.multisite(c)
  local home = setting(name, "home")
  if home == nil and c.domains[1] then home = setting(name, "scheme") .. "://" .. c.domains[1] end
  local siteurl = setting(name, "siteurl") or home
  -- A network keeps each site's home and siteurl in its own options:
  -- WP_HOME and WP_SITEURL would give every site the main site's.
  if network then home, siteurl = nil, nil end
  local ms_defines = network and M.multisite_defines(network) or {}
  local taken = {}
  for _, d in ipairs(ms_defines) do taken[d.name] = true end
  local list = {}
  for k, d in pairs(M.defines(name)) do
    local v = d.value
    if type(v) == "table" or type(v) == "userdata" then error(d.where .. ": a define must be a string, number or boolean", 0) end
    if not taken[k] then list[#list + 1] = { name = k, value = M.php(v, d.where) } end
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  return {
    app = name,
    db_name = M.php(db.database or name), db_user = M.php(db.username or "root"),
    db_password = M.php(db.password or ""), db_host = M.php(host),
    db_charset = M.php(setting(name, "db_charset")), db_collate = M.php(setting(name, "db_collate")),
    table_prefix = M.php(setting(name, "table_prefix"), "table_prefix"),
    home = home and M.php(home) or false, siteurl = siteurl and M.php(siteurl) or false,
    forwarded_proto = setting(name, "forwarded_proto"),
    defines = list,
    multisite = network and network.type or false, multisite_defines = ms_defines,
    abspath = M.php(c.current .. "/"),
  }
end

-- salts_content returns salts.php: the app's keys from the deployment
-- JSON (node.deploy.<app>.wordpress.keys, values may be secret
-- references) or, when given generate = true, fresh random ones from
-- /dev/urandom (48 bytes each, base64).
function M.salts_content(c, generate)
  local values = {}
  if generate then
    local res = shell_out("head -c 384 /dev/urandom | base64 -w 0")
    local s = res.stdout:gsub("%s", "")
    if res.exitstatus ~= 0 or #s < 512 then
      error("cannot read random bytes for the WordPress salts (head -c 384 /dev/urandom | base64 -w 0)")
    end
    for i, k in ipairs(M.salt_names) do values[k] = s:sub((i - 1) * 64 + 1, i * 64) end
  else
    local keys = app.table_of(app.get(c.name, "wordpress", "keys"))
    for _, k in ipairs(M.salt_names) do
      if keys[k] == nil then error("node.deploy." .. c.name .. ".wordpress.keys." .. k .. " is not set") end
      values[k] = keys[k]
    end
  end
  local lines = {
    "<?php",
    "// WordPress keys and salts of app " .. c.name .. ", managed by stackagent.",
    "// " .. (generate and "Generated once; every release and instance reads this file. Delete it to rotate (logs everyone out)."
      or "From node.deploy." .. c.name .. ".wordpress.keys."),
  }
  for _, k in ipairs(M.salt_names) do
    lines[#lines + 1] = "define( '" .. k .. "', " .. M.php(values[k]) .. " );"
  end
  return table.concat(lines, "\n") .. "\n"
end

-- declare_config declares salts.php and wp-config.php in the app's
-- shared config dir (0640 root:<web server group>). Salts come from the
-- JSON when node.deploy.<app>.wordpress.keys is set, else are generated
-- once (create_if_missing).
function M.declare_config(c)
  M.check(c)
  local dir = c.shared_real .. "/config"
  local has_keys = app.get(c.name, "wordpress", "keys") ~= nil
  file(dir .. "/salts.php") {
    owner = node.wordpress.config_owner, group = c.group, mode = "0640",
    content = lazy(function() return M.salts_content(c, not has_keys) end),
    action = has_keys and "create" or "create_if_missing",
    sensitive = true,
  }
  template(dir .. "/wp-config.php") {
    source = "wp-config.php.erb",
    cookbook = "wordpress",
    owner = node.wordpress.config_owner, group = c.group, mode = "0640",
    variables = lazy(function() return M.config_vars(c) end),
    -- It holds the database password: never a diff or its content in
    -- output (the engine would make it sensitive anyway once a secret is
    -- read; this covers a password given in plain JSON too).
    sensitive = true,
  }
end

-- options are the deploy options of a WordPress app.
function M.deploy_options(c)
  local shared = {}
  for _, d in ipairs(node.wordpress.shared_dirs) do shared[#shared + 1] = d end
  return {
    shared_dirs = shared,
    writable = shared,
    symlinks = { ["config/wp-config.php"] = "wp-config.php" },
    before = M.declare_config,
    vhost = M.vhost_options(c),
  }
end

return M
