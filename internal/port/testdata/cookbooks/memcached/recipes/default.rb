package 'memcached'

include_recipe 'memcached::config'

service 'memcached' do
  supports restart: true, status: true
  action [:enable, :start]
  subscribes :restart, 'template[/etc/memcached.conf]', :delayed
end
