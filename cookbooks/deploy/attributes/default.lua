-- Defaults for every app of node.deploy (OpsWorks's deploy JSON). An
-- app's own keys (node.deploy.<app>.<key>) win; see docs/wordpress.md.
default.deploy_defaults.keep_releases = 5
-- Release files are owned by this user (created if missing, as OpsWorks
-- did) and the web server's group, so Apache reads but cannot change
-- the code.
default.deploy_defaults.user = "deploy"
default.deploy_defaults.home = "/home/deploy"
-- Create the user (false when it exists already, e.g. root or a user of
-- the AMI).
default.deploy_defaults.manage_user = true
