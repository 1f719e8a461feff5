#!/bin/sh
# stackagent post-install: deb postinst (configure [OLD-VERSION]) and rpm
# %post (1 = install, 2+ = upgrade). Enables the unit on a first install,
# restarts a running agent on an upgrade. Without systemd running (an image
# build in a chroot, a container) it only enables the unit offline, which
# systemctl does with symlinks; it never starts anything.
set -e
unit=stackagent.service

# systemd is running when this exists (sd_booted(3)); tests point it elsewhere.
systemd_dir=${STACKAGENT_SYSTEMD_DIR:-/run/systemd/system}
systemd_running() { [ -d "$systemd_dir" ]; }
have_systemctl() { command -v systemctl >/dev/null 2>&1; }

action=install
case "${1:-}" in
  configure) [ -z "${2:-}" ] || action=upgrade ;;
  abort-upgrade | abort-remove | abort-deconfigure) action=upgrade ;;
  [0-9]*) [ "$1" -lt 2 ] || action=upgrade ;;
esac

if ! have_systemctl; then
  echo "stackagent: systemctl not found; enable $unit by hand where systemd runs" >&2
  exit 0
fi
if systemd_running; then
  systemctl daemon-reload || true
fi

case "$action" in
  install)
    # Enabled, not started: in an image build the agent must first run on
    # the instance launched from the image (its own identity, its boot
    # setup), not on the builder. Start it with `systemctl start stackagent`
    # once /etc/stackagent/agent.yaml is set, or reboot.
    systemctl enable "$unit" >/dev/null 2>&1 ||
      echo "stackagent: could not enable $unit; run: systemctl enable $unit" >&2
    ;;
  upgrade)
    # Only a running agent is restarted (an operator's stop is kept), and
    # without waiting: when the agent itself runs this upgrade (the
    # agent-upgrade event), the restart must not wait on the package
    # manager that waits on this script. KillMode=process lets the package
    # manager finish; the agent exits after its current resource and comes
    # back as the new version.
    if systemd_running; then
      systemctl --no-block try-restart "$unit" || true
    fi
    ;;
esac
exit 0
