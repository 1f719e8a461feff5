# logrotate and cron: files only, no notifications (converges under --root).
mc = node[:memcached]

directory '/etc/logrotate.d' do
  mode '0755'
  recursive true
end

template '/etc/logrotate.d/memcached' do
  source 'logrotate.erb'
  mode '0644'
  variables(
    path: '/var/log/memcached.log',
    rotate: mc[:logrotate][:rotate],
    frequency: mc[:logrotate][:frequency]
  )
end

directory '/etc/cron.d' do
  mode '0755'
end

template '/etc/cron.d/memcached-stats' do
  source 'cron.erb'
  mode '0644'
  variables minute: mc[:cron][:minute], user: mc[:user], port: mc[:port]
end


memcached_instance 'sessions' do
  port 11213
  conf_dir mc[:conf_dir]
end
