-- deploy.app: an app of node.deploy (OpsWorks's deploy JSON) as the
-- recipes need it, and the resources of a standard PHP deploy.
--
--   local app = require "deploy.app"
--   for _, name in ipairs(app.selected(app.is_php)) do
--     app.declare(app.config(name), {})
--   end
--
-- Values that may be secret references (repository, ssh_key,
-- environment, database) are read at converge time only, through lazy
-- values and get(): compiling never resolves a secret.
local efs = require "efs.config"
local M = {}

-- get walks node.deploy.<name>.<keys…>; nil when a step is missing. Call
-- it at converge time (inside lazy) for values that may be secrets.
function M.get(name, ...)
  local v = node.deploy and node.deploy[name]
  for _, k in ipairs({ ... }) do
    if v == nil or type(v) ~= "userdata" then return nil end
    v = v[k]
  end
  return v
end

-- table_of copies a node view or Lua table into a plain Lua table.
function M.table_of(v)
  local out = {}
  if v == nil then return out end
  for k, x in pairs(v) do
    if type(x) == "userdata" then x = M.table_of(x) end
    out[k] = x
  end
  return out
end

local function list(v)
  local out = {}
  if type(v) == "string" then return { v } end
  if type(v) ~= "table" then return out end -- nil, or {} read back as an empty attribute table
  for _, x in ipairs(v) do out[#out + 1] = tostring(x) end
  return out
end

-- event is the run's event (node.stackagent.event) or an empty table
-- when the run has none (run-recipe by hand).
function M.event()
  local sa = node.stackagent
  local ev = sa and sa.event
  if ev == nil then return {} end
  return { type = ev.type, app = ev.app, command = ev.command, rollback_to = ev.rollback_to, id = ev.id }
end

-- selected lists, by name, the apps of node.deploy that accept(name,
-- settings) takes and that the event is about (all of them when it names
-- no app).
function M.selected(accept)
  local only = M.event().app
  if only == "" then only = nil end
  local out = {}
  for name, s in pairs(node.deploy or {}) do
    if (only == nil or name == only) and accept(name, s) then
      out[#out + 1] = name
    end
  end
  table.sort(out)
  return out
end

-- is_php takes the apps deploy::php deploys: application_type "php", or
-- none given (except an app named wordpress, the wordpress cookbook's).
function M.is_php(name, s)
  local t = s.application_type
  return t == "php" or (t == nil and name ~= "wordpress")
end

-- source_types maps OpsWorks's scm_type to the deploy resource's
-- source_type; an archive at an http(s) URL is "http".
local function source_type(scm)
  local t = scm.scm_type or "git"
  local repo = scm.repository
  if t == "archive" and type(repo) == "string" and repo:match("^https?://") then
    return "http"
  end
  if t == "other" then return "local" end
  return t
end

-- config returns the app's settings with their defaults. Only values
-- that are never secrets are read here.
function M.config(name)
  validate.name(name, "node.deploy", "app name")
  local s = node.deploy[name]
  if s == nil then error("node.deploy." .. name .. " is not set") end
  local w = "node.deploy." .. name
  local d = node.deploy_defaults
  local scm = s.scm or {}
  local c = { name = name }
  c.deploy_to = validate.path(s.deploy_to or ("/srv/www/" .. name), w .. ".deploy_to")
  c.current = c.deploy_to .. "/current"
  c.document_root = s.document_root
  c.docroot = c.current
  if c.document_root and c.document_root ~= "" then
    local rel = tostring(c.document_root):gsub("^/+", ""):gsub("/+$", "")
    if rel ~= "" then c.docroot = c.current .. "/" .. validate.relpath(rel, w .. ".document_root") end
  end
  c.source_type = source_type(scm)
  c.revision = scm.revision
  c.checksum = scm.checksum
  -- An archive's limits (the deploy resource's defaults: 1 GiB, 100,000
  -- entries), raised per app from the stack JSON.
  for _, k in ipairs({ "max_archive_size", "max_archive_entries" }) do
    if scm[k] ~= nil then c[k] = validate.integer(scm[k], w .. ".scm." .. k, 1) end
  end
  c.keep_releases = s.keep_releases or d.keep_releases
  c.domains = M.domains(name)
  c.symlinks = M.table_of(s.symlinks)
  for from, to in pairs(c.symlinks) do
    validate.relpath(from, w .. ".symlinks key")
    validate.relpath(to, w .. ".symlinks." .. from)
  end
  for _, k in ipairs({ "shared_dirs", "purge_before_symlink", "create_dirs_before_symlink" }) do
    c[k] = list(s[k])
    for i, p in ipairs(c[k]) do validate.relpath(p, w .. "." .. k .. "[" .. i .. "]") end
  end
  c.user = validate.name(s.user or d.user, s.user and w .. ".user" or "node.deploy_defaults.user", "user name")
  c.home = validate.path(s.home or d.home, s.home and w .. ".home" or "node.deploy_defaults.home")
  c.group = validate.name(s.group or node.apache.group, s.group and w .. ".group" or "node.apache.group", "group name")
  c.web_user = validate.name(node.apache.user, "node.apache.user", "user name")
  -- shared: <deploy_to>/shared, a symlink to <efs mount>/<app>/shared
  -- when the app's shared dir is on EFS (efs_shared).
  c.shared = c.deploy_to .. "/shared"
  c.efs_shared = efs.shared_dir(name, s)
  c.shared_real = c.efs_shared or c.shared
  return c
end

-- environment returns the app's environment variables (OpsWorks's
-- environment, and its older environment_variables) at converge time.
function M.environment(name)
  local env = M.table_of(M.get(name, "environment_variables"))
  for k, v in pairs(M.table_of(M.get(name, "environment"))) do env[k] = v end
  return env
end

-- action is the deploy resource's action for the run's event command.
function M.action()
  local cmd = M.event().command
  if cmd == "rollback" then return "rollback" end
  if cmd == "undeploy" then return "undeploy" end
  if cmd == "force_deploy" then return "force_deploy" end
  return "deploy"
end

-- relpath is the path of target relative to the directory dir (both
-- absolute): relpath("/srv/www/wp", "/mnt/efs/wp/shared") is
-- "../../../mnt/efs/wp/shared".
function M.relpath(dir, target)
  local function parts(p)
    local out = {}
    for x in p:gmatch("[^/]+") do out[#out + 1] = x end
    return out
  end
  local a, b = parts(dir), parts(target)
  local i = 1
  while i <= #a and i <= #b and a[i] == b[i] do i = i + 1 end
  local out = {}
  for _ = i, #a do out[#out + 1] = ".." end
  for j = i, #b do out[#out + 1] = b[j] end
  if #out == 0 then return "." end
  return table.concat(out, "/")
end

-- layout declares the deploy user and the app's directories: deploy_to,
-- the shared dir (on EFS when configured: mounted first, then linked at
-- <deploy_to>/shared) and the given shared subdirectories, which the web
-- server may write (uploads).
function M.layout(c, writable)
  if node.deploy_defaults.manage_user and c.user ~= "root" then
    user(c.user) {
      gid = c.group, home = c.home, manage_home = true, system = true, shell = "/bin/bash",
      comment = "stackagent deploys",
    }
  end
  directory(c.deploy_to) { owner = c.user, group = c.group, mode = "0755", recursive = true }
  if c.efs_shared then
    include_recipe "efs::default"
    directory(c.efs_shared) { owner = c.user, group = c.group, mode = "0755", recursive = true }
    -- Relative, so the link also resolves under a run's --root.
    link(c.shared) { to = M.relpath(c.deploy_to, c.efs_shared) }
  else
    directory(c.shared) { owner = c.user, group = c.group, mode = "0755" }
  end
  directory(c.shared_real .. "/config") { owner = node.wordpress and node.wordpress.config_owner or "root", group = c.group, mode = "0750", recursive = true }
  for _, d in ipairs(writable or {}) do
    directory(c.shared_real .. "/" .. d) { owner = c.web_user, group = c.group, mode = "0775", recursive = true }
  end
end

-- declare declares a whole deploy of app c: layout, opts.before(c) (e.g.
-- wp-config.php), the deploy resource and the vhost. opts: symlinks and
-- shared_dirs added to the app's, writable shared dirs, vhost (see
-- declare_vhost).
-- The start, stop and restart commands act on Apache only.
function M.declare(c, opts)
  opts = opts or {}
  include_recipe "apache2::service"
  local cmd = M.event().command
  if cmd == "start" or cmd == "stop" or cmd == "restart" then
    service("apache2 (" .. cmd .. ")") {
      service_name = node.apache.service,
      init_command = node.apache.init_command,
      supports = { status = true, restart = true, reload = true },
      action = cmd,
    }
    return
  end
  local action = M.action()
  if action == "undeploy" then
    M.undeploy(c)
    return
  end
  local shared_dirs = list(c.shared_dirs)
  for _, d in ipairs(opts.shared_dirs or {}) do shared_dirs[#shared_dirs + 1] = d end
  local symlinks = M.table_of(c.symlinks)
  for k, v in pairs(opts.symlinks or {}) do symlinks[k] = v end
  M.layout(c, opts.writable or shared_dirs)
  if opts.before then opts.before(c) end
  local name = c.name
  deploy(name) {
    app = name,
    deploy_to = c.deploy_to,
    source_type = c.source_type,
    repository = lazy(function() return M.get(name, "scm", "repository") or "" end),
    revision = c.revision,
    ssh_key = lazy(function() return M.get(name, "scm", "ssh_key") or "" end),
    checksum = c.checksum,
    max_archive_size = c.max_archive_size,
    max_archive_entries = c.max_archive_entries,
    keep_releases = c.keep_releases,
    shared_dirs = shared_dirs,
    symlinks = symlinks,
    purge_before_symlink = c.purge_before_symlink,
    create_dirs_before_symlink = c.create_dirs_before_symlink,
    owner = c.user,
    group = c.group,
    environment = lazy(function() return M.environment(name) end),
    rollback_to = M.event().rollback_to,
    action = action,
    notifies = M.release_notifies(),
  }
  M.declare_vhost(c, opts.vhost)
end

-- release_notifies is what a new current (deploy, rollback) notifies.
-- Under php-fpm nothing: the vhost's DocumentRoot is the current link,
-- which Apache resolves per request, and php-fpm's opcache keys scripts
-- by real path (php's opcache.revalidate_path), so the new release is
-- served without a reload; the vhost template still reloads Apache when
-- it changed. mod_php runs in Apache: a graceful reload, as before.
function M.release_notifies()
  if node.php and node.php.handler == "fpm" then return nil end
  return { "reload", "service[apache2]", "delayed" }
end

-- domains returns node.deploy.<name>.domains, each checked (RFC 1123,
-- lower-cased): the first is the vhost's ServerName, the others
-- ServerAlias, which may be a wildcard (*.example.com).
function M.domains(name)
  local out = list(node.deploy[name].domains)
  for i, d in ipairs(out) do
    out[i] = validate.domain(d, "node.deploy." .. name .. ".domains[" .. i .. "]", { wildcard = i > 1 })
  end
  return out
end

-- server_names lists the host names app name answers for, lower-case:
-- its domains (the host's FQDN without any) and, for a WordPress
-- subdomain network, the wildcard *.<network domain>.
function M.server_names(name)
  local s = node.deploy[name]
  validate.name(name, "node.deploy", "app name")
  local out = M.domains(name)
  if #out == 0 then out[1] = tostring(node.fqdn or node.hostname or "localhost"):lower() end
  local function ms(key)
    local v = M.get(name, "wordpress", "multisite", key)
    if v == nil and node.wordpress and node.wordpress.multisite then v = node.wordpress.multisite[key] end
    return v
  end
  if ms("enabled") == true and ms("type") == "subdomain" then
    local domain = ms("domain_current_site") or list(s.domains)[1]
    if domain then
      domain = tostring(domain):gsub("^www%.", "")
      out[#out + 1] = "*." .. validate.domain(domain, "node.deploy." .. name .. ".wordpress.multisite.domain_current_site")
    end
  end
  return out
end

-- matches tells whether Apache's server name pattern (ServerAlias takes
-- * and ?) matches host.
local function matches(pattern, host)
  if pattern == host then return true end
  if not pattern:find("[%*%?]") then return false end
  local p = pattern:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".")
  return host:match("^" .. p .. "$") ~= nil
end

-- check_names refuses a vhost for app name when another app of
-- node.deploy answers for one of its names: Apache would give the
-- request to whichever vhost it loaded first.
function M.check_names(name)
  local mine = M.server_names(name)
  for other in pairs(node.deploy or {}) do
    if other ~= name then
      for _, a in ipairs(mine) do
        for _, b in ipairs(M.server_names(other)) do
          if matches(a, b) or matches(b, a) then
            error("apps " .. name .. " and " .. other .. " both answer for " .. (a:find("[%*%?]") and b or a) ..
              ": give each app its own node.deploy.<app>.domains")
          end
        end
      end
    end
  end
end

-- declare_vhost declares app c's vhost: ServerName its first domain,
-- ServerAlias the others and extra.aliases, DocumentRoot under current,
-- extra.directory_extra in the document root's <Directory>.
function M.declare_vhost(c, extra)
  extra = extra or {}
  M.check_names(c.name)
  local aliases = {}
  for i = 2, #c.domains do aliases[#aliases + 1] = c.domains[i] end
  for _, a in ipairs(extra.aliases or {}) do aliases[#aliases + 1] = a end
  local name = c.name
  require("apache2.watch").vhost(name, c.domains[1])
  apache2_vhost(name) {
    server_name = c.domains[1],
    aliases = aliases,
    docroot = c.docroot,
    environment = lazy(function() return M.environment(name) end),
    extra = extra.extra,
    directory_extra = extra.directory_extra,
    notifies = { "reload", "service[apache2]", "delayed" },
  }
end

-- undeploy removes the app's releases and its vhost. Its shared dir on
-- EFS stays (other instances serve it): only the link to it goes.
function M.undeploy(c)
  deploy(c.name) {
    app = c.name,
    deploy_to = c.deploy_to,
    action = "undeploy",
    notifies = { "reload", "service[apache2]", "delayed" },
  }
  apache2_vhost(c.name) { action = "delete", notifies = { "reload", "service[apache2]", "delayed" } }
end

return M
