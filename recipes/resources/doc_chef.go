package resources

import (
	"fmt"
	"strings"
)

// chefCore is Chef Infra's core resources (Linux ones one by one; the
// Windows, macOS, Chef Server and Habitat families by group) and how
// stackagent covers each: "yes", "partial", "no" or "n/a", with what
// differs from Chef's properties and actions.
var chefCore = []struct{ name, here, notes string }{
	{"alternatives", "no", ""},
	{"apt_package", "yes", "package's properties and actions; Chef's default_release, overwrite_config_files, response_file not supported; fails on a non-debian platform_family"},
	{"apt_preference", "no", ""},
	{"apt_repository", "yes", "add, remove; repo_name, uri, distribution, components, arch, deb_src, key (https URL, kept as the repository's signed-by keyring, never apt-key), cache_rebuild; keyserver, trusted, cookbook key files not supported"},
	{"apt_update", "yes", "periodic, update; frequency"},
	{"archive_file", "no", "deploy unpacks archives (limits on size and entries)"},
	{"bash", "yes", "code, flags, cwd, environment, user, group, creates, timeout, returns; guard_interpreter, umask, password, live_stream not supported; string guards inherit cwd/environment/user/group"},
	{"build_essential", "no", ""},
	{"chef_client_* (config, cron, systemd_timer, …)", "n/a", "the agent is the client: see operators.md"},
	{"chef_gem, gem_package, ruby, ruby_block", "n/a", "no Ruby: lua_block for ruby_block"},
	{"chef_handler", "n/a", "run reports and events: observability.md"},
	{"chef_sleep", "no", ""},
	{"cookbook_file", "yes", "source, cookbook, owner, group, mode, verify, atomic_update, backup; Chef's manage_symlink_source is always on, force_unlink, inherits, rights not supported"},
	{"cron", "yes", "the user's crontab (# Chef Name: markers); minute, hour, day, month, weekday, time, command, user, mailto, path, home, shell, environment; time_out not supported"},
	{"cron_access", "no", ""},
	{"cron_d", "yes", "cron_name, predefined_value, the schedule, command, user, mailto, path, home, shell, comment, environment, mode (0600), random_delay; cookbook, time_out not supported"},
	{"csh, ksh", "partial", "script with interpreter = \"csh\" (or \"ksh\")"},
	{"directory", "yes", "path, owner, group, mode, recursive; inherits, rights not supported"},
	{"dnf_package", "yes", "package's properties and actions; arch, flush_cache, allow_downgrade not supported"},
	{"dpkg_package, rpm_package", "no", "package with a repository"},
	{"execute", "yes", "command (a string through /bin/sh, or argv), cwd, environment, user, group, creates, timeout, returns; umask, password, live_stream, input not supported"},
	{"file", "yes", "path, content, owner, group, mode, verify, atomic_update, backup; create, create_if_missing, delete, touch; force_unlink, manage_symlink_source not supported"},
	{"git", "yes", "sync, checkout, export; repository, revision, remote, checkout_branch, depth, enable_submodules, user, group, ssh_key (Chef: ssh_wrapper), environment, timeout"},
	{"group", "yes", "create, remove, modify, manage; group_name, gid, members, append, system; excluded_members not supported"},
	{"hostname", "yes", "set; hostname, ipaddress, aliases, fqdn_hostsfile; compile_time and Windows properties not supported"},
	{"http_request", "yes", "get, post, put, patch, delete, head, options; url, message (the body of post, put, patch), headers; fails outside 2xx"},
	{"ifconfig, route", "no", ""},
	{"kernel_module", "no", ""},
	{"link", "yes", "create, delete; target_file, to, link_type, owner, group"},
	{"locale, timezone", "no", ""},
	{"log", "yes", "write; message, level"},
	{"mdadm", "no", ""},
	{"mount", "yes", "mount, umount, remount, enable, disable; mount_point, device, fstype, options, dump, pass, supports; device_type, username, password not supported"},
	{"notify_group", "yes", "run (default nothing)"},
	{"ohai, ohai_hint", "no", "automatic attributes are gathered by the agent"},
	{"openssl_* (x509, dhparam, rsa keys)", "no", ""},
	{"package", "yes", "install, upgrade, remove, purge; package_name (one or a list), version, options, timeout; apt on debian, dnf/yum on rpm families"},
	{"perl, python", "yes", "code, flags and execute's properties (python runs python3)"},
	{"reboot", "yes", "request_reboot, reboot_now, cancel; reason, delay_mins"},
	{"remote_directory", "yes", "create, create_if_missing, delete; source, cookbook, owner, group, mode, files_owner, files_group, files_mode, purge, overwrite; files_backup, files_rights not supported"},
	{"remote_file", "yes", "source (URLs), checksum, headers, use_etag, use_last_modified, verify, backup and file's properties; ftp, sftp and Windows sources not supported"},
	{"rhsm_* (Red Hat subscription)", "no", ""},
	{"script", "yes", "interpreter, code, flags and execute's properties; the interpreter is a program, never a command line"},
	{"selinux_* (boolean, fcontext, module, port, state, …)", "no", ""},
	{"service", "yes", "enable, disable, start, stop, restart, reload; service_name, pattern, init_command, supports, status/start/stop/restart/reload_command, timeout; systemd or init scripts"},
	{"snap_package, zypper_package, pacman_package and other platforms' packages", "no", ""},
	{"ssh_known_hosts_entry", "yes", "create; host, key (default: ssh-keyscan), key_type, port, file_location, timeout; hash_entries, owner, group, mode not supported"},
	{"subversion", "no", ""},
	{"sudo", "yes", "create, delete; filename, users, groups, commands, host, runas, nopasswd, noexec, setenv, env_keep_add, config_prefix; validated with visudo -cf; command_aliases, defaults, template not supported"},
	{"swap_file", "yes", "create, remove; path, size, persist, timeout; swappiness not supported (use sysctl vm.swappiness)"},
	{"sysctl", "yes", "apply, remove; key, value, comment, conf_dir; ignore_error not supported"},
	{"systemd_unit", "yes", "create, delete, enable, disable, start, stop, restart, reload; unit_name, content (string or table), verify, triggers_reload (one daemon-reload for units changed in a row); user units, mask, preset not supported"},
	{"template", "yes", "source (ERB, Lua inside), cookbook, variables (lazy values at any depth), backup and file's properties; helpers, local not supported"},
	{"user", "yes", "create, remove, modify, manage, lock, unlock; username, uid, gid, home, shell, comment, system, manage_home, password"},
	{"user_ulimit", "no", ""},
	{"yum_package", "yes", "package's properties and actions (dnf where present)"},
	{"yum_repository", "yes", "create, delete; repositoryid, description, baseurl, mirrorlist, metalink, gpgkey, gpgcheck, enabled, sslverify, priority, exclude, includepkgs; the file only (no makecache); most of Chef's other yum options not supported"},
	{"zypper_repository", "no", ""},
	{"windows_*, powershell_*, registry_key, chocolatey_*, dsc_*", "n/a", "Windows"},
	{"macos_*, launchd, homebrew_*, plist, osx_profile", "n/a", "macOS"},
	{"chef_acl, chef_node, chef_role, chef_data_bag, … (Chef Server)", "n/a", "no Chef Server"},
	{"habitat_*", "n/a", ""},
	{"deploy (Chef's, removed in Chef 14)", "yes", "stackagent's own: releases and an atomic current link; see deploy.md"},
	{"lua_block (Chef: ruby_block)", "yes", "block"},
}

// chefCoreMarkdown renders the table.
func chefCoreMarkdown() string {
	var b strings.Builder
	b.WriteString("## Chef's core resources\n\n")
	b.WriteString("Every core resource of Chef Infra, and how stackagent covers it (yes, partial, no, n/a: not for this agent).\n")
	b.WriteString("Every present kind takes the common properties, `ignore_failure = \"quiet\"` included.\n\n")
	b.WriteString("| Chef resource | here | properties and actions vs Chef's |\n| --- | --- | --- |\n")
	for _, c := range chefCore {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.name, c.here, c.notes)
	}
	return b.String()
}
