package resources

import "github.com/stackagent/stackagent/recipes"

// registerSystem adds the kinds that manage the system through its tools:
// package, apt_update, service, execute, bash, user, group, mount, cron, cron_d, sysctl, systemd_unit, sudo, hostname, apt_repository, ssh_known_hosts_entry, yum_repository, swap_file,
// git, reboot.
func registerSystem(g *recipes.Registry) {
	for _, k := range []*recipes.Kind{
		packageKind(), aptUpdateKind(), serviceKind(hostUsesSystemd), executeKind(), bashKind(),
		userKind(), groupKind(), mountKind(), cronKind(), cronDKind(), sysctlKind(), systemdUnitKind(hostUsesSystemd), sudoKind(), hostnameKind(), aptRepositoryKind(), sshKnownHostsKind(), yumRepositoryKind(), swapFileKind(), gitKind(), rebootKind(),
	} {
		g.Register(k)
	}
	for _, k := range append(packageAliasKinds(), scriptKinds()...) {
		g.Register(k)
	}
	g.Register(deployKind())
}
