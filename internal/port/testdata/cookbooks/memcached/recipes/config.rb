# Files only: converges under --root.
mc = node[:memcached]

template "#{mc[:conf_dir]}/memcached.conf" do
  source 'memcached.conf.erb'
  owner 'root'
  group 'root'
  mode 0644
  variables(memory: mc[:memory], port: mc[:port], listen: mc[:listen], options: mc[:options], user: mc[:user])
  notifies :restart, 'service[memcached]', :delayed
end

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

service 'memcached' do
  action :nothing
end
