-- Amazon EFS. Nothing is mounted unless node.efs.file_system_id is set
-- (in the stack JSON: {"efs": {"file_system_id": "fs-12345678"}}).
-- default.efs.file_system_id = "fs-12345678"
-- The region of the file system; default the instance's (node.ec2.region).
-- default.efs.region = "us-east-1"
default.efs.mount_point = "/mnt/efs"
-- AWS's recommended NFS client options for EFS
-- (https://docs.aws.amazon.com/efs/latest/ug/mounting-fs-nfs-mount-settings.html).
default.efs.nfs_options = { "nfsvers=4.1", "rsize=1048576", "wsize=1048576", "hard", "timeo=600", "retrans=2", "noresvport", "_netdev" }
-- With amazon-efs-utils installed (/sbin/mount.efs), the efs mount type
-- is used instead, encrypting in transit (tls); it sets the NFS options
-- above itself.
default.efs.use_efs_utils = true
default.efs.efs_utils_options = { "_netdev", "tls" }
-- The mount target may not answer yet (a new file system, a new subnet):
-- the mount is tried retries more times, retry_delay seconds apart.
default.efs.retries = 12
default.efs.retry_delay = 10
-- Packages: the NFS client; amazon-efs-utils where the distribution has it.
if platform_family_is("debian") then
  default.efs.packages = { "nfs-common" }
elseif platform_family_is("amazon") then
  default.efs.packages = { "nfs-utils", "amazon-efs-utils" }
else
  default.efs.packages = { "nfs-utils" }
end
-- Mode of the mount point's root once mounted (apps' shared dirs live
-- below it, see the deploy cookbook).
default.efs.mode = "0755"

-- TEST ONLY. The e2e tests run where the kernel has no NFS: they stand EFS
-- in with a bind mount by setting
--   efs.device_override  = "/srv/fake-efs"   (the mount's device)
--   efs.fstype_override  = "none"            (its fstype)
--   efs.options_override = {"bind"}          (its options)
-- Each replaces the computed value when set, and device_override alone
-- turns EFS on without a file_system_id. Never set them on a real stack.
