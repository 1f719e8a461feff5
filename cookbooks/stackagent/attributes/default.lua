-- Where the agent keeps its state and where operators put site files.
default.stackagent.state_dir = "/var/lib/stackagent"
default.stackagent.config_dir = "/etc/stackagent"
default.stackagent.plugin_dir = "/usr/lib/stackagent/plugins"
