-- stackagent::default lays out the agent's own directories. It is what
-- `stackagent run-recipe stackagent` converges on a new host, and the
-- first recipe of every setup run list.
--
-- The paths are the agent's configured ones (agent.yaml's state_dir,
-- inbox_dir, attributes_dir, cookbook_dirs, plugin_dir), which the agent
-- gives as automatic attributes; attributes/default.lua holds the host
-- defaults for a run without them. The state directory itself is only
-- created when missing: its mode is the operator's (or the package's).
local sa = node.stackagent
for _, k in ipairs({ "state_dir", "attributes_dir" }) do
  validate.path(sa[k], "node.stackagent." .. k)
end
for _, k in ipairs({ "inbox_dir", "plugin_dir" }) do
  if sa[k] then validate.path(sa[k], "node.stackagent." .. k) end
end
for i, dir in ipairs(sa.cookbook_dirs or {}) do
  validate.path(dir, "node.stackagent.cookbook_dirs[" .. i .. "]")
end

directory(sa.state_dir) { mode = "0750", recursive = true, not_if = function() return file_exists(sa.state_dir) end }

local owned = { sa.state_dir .. "/runs" }
if sa.inbox_dir then owned[#owned + 1] = sa.inbox_dir end
for _, dir in ipairs(owned) do
  directory(dir) { mode = "0750", recursive = true }
end

local site = { sa.attributes_dir }
for _, dir in ipairs(sa.cookbook_dirs or {}) do site[#site + 1] = dir end
if sa.plugin_dir then site[#site + 1] = sa.plugin_dir end
for _, dir in ipairs(site) do
  directory(dir) { mode = "0755", recursive = true }
end
