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

service 'memcached' do
  action :nothing
end
