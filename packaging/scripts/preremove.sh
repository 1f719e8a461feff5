#!/bin/sh
# stackagent pre-remove: deb prerm (remove | upgrade NEW | ...) and rpm
# %preun (0 = erase, 1 = upgrade). On removal: stop the agent (it lets its
# running resource finish and hands its event back; at most the unit's
# TimeoutStopSec) and disable the unit. Nothing on an upgrade: the new
# package's post-install restarts it. Without systemd running it only
# disables the unit offline.
set -e
unit=stackagent.service

case "${1:-}" in
  remove | 0) ;;
  *) exit 0 ;;
esac
command -v systemctl >/dev/null 2>&1 || exit 0
# systemd is running when this exists (sd_booted(3)); tests point it elsewhere.
if [ -d "${STACKAGENT_SYSTEMD_DIR:-/run/systemd/system}" ]; then
  systemctl stop "$unit" || true
fi
systemctl disable "$unit" >/dev/null 2>&1 || true
exit 0
