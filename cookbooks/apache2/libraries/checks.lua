-- apache2.checks: the node.apache attributes that reach a command line
-- or Apache's configuration, checked at compile time with the validate
-- table (docs/recipes.md); an error names the attribute.
local M = {}

-- service checks a service name and its optional init script.
function M.service(name, init_command, where)
  validate.name(name, where .. ".service", "service name")
  if init_command ~= nil then validate.path(init_command, where .. ".init_command") end
end

-- list checks each item of a list attribute with check (a validate
-- function taking value and where).
function M.list(v, where, check)
  if type(v) == "string" or type(v) == "number" then v = { v } end
  if type(v) ~= "table" then return end -- nil, or {} read back as an empty attribute table
  for i, x in ipairs(v) do check(x, where .. "[" .. i .. "]") end
end

-- server checks what apache2::default writes or runs.
function M.server(a)
  local w = "node.apache"
  validate.package(a.package, w .. ".package")
  M.service(a.service, a.init_command, w)
  for _, k in ipairs({ "dir", "log_dir", "ports_file", "conf_file", "conf_enabled", "sites_available",
    "sites_enabled", "mods_enabled", "pid_file" }) do
    if a[k] ~= nil then validate.path(a[k], w .. "." .. k) end
  end
  for _, k in ipairs({ "user", "group", "config_owner", "config_group" }) do
    validate.name(a[k], w .. "." .. k, "user or group name")
  end
  M.list(a.listen_ports, w .. ".listen_ports", validate.port)
  M.list(a.builtin_listen, w .. ".builtin_listen", validate.port)
  validate.port(a.vhost_port, w .. ".vhost_port")
  validate.domain(a.server_name, w .. ".server_name")
  for _, k in ipairs({ "server_tokens", "server_signature", "trace_enable", "keepalive", "timeout",
    "keepalive_timeout", "max_keepalive_requests" }) do
    validate.word(a[k], w .. "." .. k)
  end
  validate.line(a.allow_override, w .. ".allow_override")
end

return M
