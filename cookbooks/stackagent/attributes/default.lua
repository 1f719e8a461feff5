-- The host defaults of the agent's paths. The agent sets each of these
-- from its config (agent.yaml, flags) as automatic attributes, so a run
-- through the agent always uses the configured paths; these only fill in
-- for a node that lacks them.
default.stackagent.state_dir = "/var/lib/stackagent"
default.stackagent.attributes_dir = "/etc/stackagent/attributes.d"
default.stackagent.cookbook_dirs = { "/etc/stackagent/cookbooks" }
default.stackagent.plugin_dir = "/usr/lib/stackagent/plugins"
