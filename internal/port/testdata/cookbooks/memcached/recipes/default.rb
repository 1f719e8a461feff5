package 'memcached'

include_recipe 'memcached::config'

service 'memcached' do
  supports restart: true, status: true
  action [:enable, :start]
  subscribes :restart, 'template[/etc/memcached.conf]', :delayed
end

# A ruby_block, as OpsWorks recipes often had: no stackagent kind.
ruby_block 'record memcached version' do
  block do
    node.run_state['memcached_version'] = `memcached -V`.strip
  end
  action :nothing
  subscribes :run, 'package[memcached]', :immediately
end
