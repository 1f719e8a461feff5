-- stackagent::default lays out the agent's own directories. It is what
-- `stackagent run-recipe stackagent` converges on a new host, and the
-- first recipe of every setup run list.
local sa = node.stackagent
for _, k in ipairs({ "state_dir", "config_dir", "plugin_dir" }) do
  validate.path(sa[k], "node.stackagent." .. k)
end

for _, dir in ipairs({ sa.state_dir, sa.state_dir .. "/runs", sa.state_dir .. "/inbox" }) do
  directory(dir) { mode = "0750", recursive = true }
end

for _, dir in ipairs({ sa.config_dir, sa.config_dir .. "/cookbooks", sa.config_dir .. "/attributes.d" }) do
  directory(dir) { mode = "0755", recursive = true }
end

directory(sa.plugin_dir) { mode = "0755", recursive = true }
