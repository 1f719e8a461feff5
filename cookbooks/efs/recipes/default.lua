-- efs::default mounts the stack's EFS file system at node.efs.mount_point
-- and puts it in /etc/fstab: device <fs-id>.efs.<region>.amazonaws.com:/,
-- fstype nfs4 with AWS's recommended options — or, when amazon-efs-utils
-- is installed, <fs-id>:/ with the efs type and TLS. The mount is retried
-- while the mount target is not ready. Without node.efs.file_system_id
-- it does nothing. A second run changes nothing.
local efs = require "efs.config"
local c = efs.config()
if not c then
  log "efs: node.efs.file_system_id is not set, nothing to mount" { level = "debug" }
  return
end

if not node.efs.device_override then
  local pkgs = node.efs.packages
  if type(pkgs) == "string" then pkgs = { pkgs } end
  for i, p in ipairs(type(pkgs) == "table" and pkgs or {}) do validate.package(p, "node.efs.packages[" .. i .. "]") end
  package(pkgs)
end

directory(c.mount_point) { recursive = true }

-- The efs type mounts through a local TLS tunnel (127.0.0.1:/ in the
-- mount table), which the mount resource cannot match to the device:
-- mountpoint(1) tells whether it is mounted (argv, no shell).
local guard = nil
if c.fstype == "efs" then
  local mp = c.mount_point
  guard = function() return shell_out({ "mountpoint", "-q", "--", mp }).exitstatus == 0 end
end

-- The fstab line is kept whether or not the file system is mounted yet.
mount(c.mount_point) {
  device = c.device,
  fstype = c.fstype,
  options = c.options,
  dump = 0,
  pass = 0,
  action = "enable",
}

mount(c.mount_point) {
  device = c.device,
  fstype = c.fstype,
  options = c.options,
  action = "mount",
  retries = c.retries,
  retry_delay = c.retry_delay,
  not_if = guard,
}
