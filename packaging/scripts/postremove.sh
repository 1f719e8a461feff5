#!/bin/sh
# stackagent post-remove: deb postrm (remove | purge | upgrade | ...) and
# rpm %postun (0 = erase, 1 = upgrade).
#   remove / erase: the unit file is gone; systemd forgets it. State in
#     /var/lib/stackagent and the config stay for a reinstall.
#   purge (deb): also the agent's state (journal, runs, inbox, fetched
#     custom cookbooks) and the config; dpkg has removed the conffile, this
#     removes its backups and the /etc/stackagent folders the operator left
#     empty. An operator's own cookbooks, roles or attributes are kept.
set -e

case "${1:-}" in
  remove | purge | 0)
    if [ -d "${STACKAGENT_SYSTEMD_DIR:-/run/systemd/system}" ] && command -v systemctl >/dev/null 2>&1; then
      systemctl daemon-reload || true
      systemctl reset-failed stackagent.service 2>/dev/null || true
    fi
    ;;
esac

if [ "${1:-}" = purge ]; then
  rm -rf /var/lib/stackagent
  rm -f /etc/stackagent/agent.yaml /etc/stackagent/agent.yaml.dpkg-old \
    /etc/stackagent/agent.yaml.dpkg-dist /etc/stackagent/agent.yaml.dpkg-new \
    /etc/stackagent/agent.yaml.dpkg-bak /etc/stackagent/agent.yaml.dpkg-tmp
  for d in /etc/stackagent/cookbooks /etc/stackagent/attributes.d \
    /etc/stackagent/roles /etc/stackagent/data_bags /etc/stackagent \
    /usr/lib/stackagent/plugins /usr/lib/stackagent; do
    rmdir "$d" 2>/dev/null || true
  done
  if [ -d /etc/stackagent ]; then
    echo "stackagent: kept /etc/stackagent: it holds files of your own" >&2
  fi
fi
exit 0
