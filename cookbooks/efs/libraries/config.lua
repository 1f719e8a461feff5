-- efs.config: what the efs recipe mounts, and where apps' shared dirs go.
--
--   local efs = require "efs.config"
--   local c = efs.config()   -- nil when no EFS is configured
--   c.device, c.fstype, c.options, c.mount_point
local M = {}

-- enabled tells whether the stack has an EFS file system to mount.
function M.enabled()
  local e = node.efs
  return e ~= nil and (e.file_system_id ~= nil or e.device_override ~= nil)
end

-- options returns a mount option list (a list or "a,b,c"), each option
-- checked: one word, so it cannot add fields or lines to /etc/fstab.
local function options(v, where)
  local out = {}
  if type(v) == "string" then
    for o in v:gmatch("[^,]+") do out[#out + 1] = o end
  elseif type(v) == "table" then -- else nil, or {} read back as an empty attribute table
    for _, o in ipairs(v) do out[#out + 1] = o end
  end
  for i, o in ipairs(out) do validate.word(o, where .. "[" .. i .. "]") end
  return out
end

-- config returns the mount: nil without EFS. use_efs_utils (a boolean)
-- may be passed to decide without looking at /sbin/mount.efs.
function M.config(use_efs_utils)
  if not M.enabled() then
    return nil
  end
  local e = node.efs
  local c = { mount_point = validate.path(e.mount_point, "node.efs.mount_point"), retries = e.retries, retry_delay = e.retry_delay }
  if e.file_system_id then
    local id = tostring(e.file_system_id)
    if not id:match("^fs%-[0-9a-f]+$") then
      error("node.efs.file_system_id " .. id .. " is not a file system id (fs-…)")
    end
    local region = e.region or (node.ec2 and node.ec2.region)
    if region ~= nil then validate.domain(region, e.region and "node.efs.region" or "node.ec2.region") end
    if use_efs_utils == nil then
      use_efs_utils = e.use_efs_utils and (file_exists("/sbin/mount.efs") or file_exists("/usr/sbin/mount.efs"))
    end
    if use_efs_utils then
      c.device, c.fstype, c.options = id .. ":/", "efs", options(e.efs_utils_options, "node.efs.efs_utils_options")
    else
      if not region then
        error("node.efs.region is not set and node.ec2.region is unknown (not on EC2?): set efs.region")
      end
      c.device = id .. ".efs." .. region .. ".amazonaws.com:/"
      c.fstype, c.options = "nfs4", options(e.nfs_options, "node.efs.nfs_options")
    end
  end
  -- Test-only overrides (see attributes/default.lua).
  if e.device_override then c.device = validate.path(e.device_override, "node.efs.device_override") end
  if e.fstype_override then c.fstype = validate.word(e.fstype_override, "node.efs.fstype_override") end
  if e.options_override then c.options = options(e.options_override, "node.efs.options_override") end
  if not c.fstype then c.fstype = "none" end
  return c
end

-- shared_dir returns where app's shared dir lives on EFS, or nil when it
-- stays local: EFS configured and node.deploy.<app>.shared_on_efs not
-- false, or shared_on_efs true.
function M.shared_dir(app, settings)
  local on = settings and settings.shared_on_efs
  if on == false or (on == nil and not M.enabled()) then
    return nil
  end
  validate.name(app, "node.deploy", "app name")
  return validate.path(node.efs.mount_point, "node.efs.mount_point") .. "/" .. app .. "/shared"
end

return M
