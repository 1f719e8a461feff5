# Reads node[:opsworks], as OpsWorks custom recipes did.
layers = node[:opsworks][:instance][:layers]
stack = node[:opsworks][:stack][:name]
Chef::Log.info("configuring #{node[:opsworks][:instance][:hostname]} of stack #{stack}")

if layers.include?('php-app')
  motd = "Stack #{stack}: #{layers.join(', ')} (#{node[:opsworks][:instance][:private_ip]})"
elsif node[:opsworks][:activity] == 'deploy'
  motd = 'deploying'
else
  motd = 'other layer'
end

case node[:platform]
when 'ubuntu', 'debian'
  motd_path = '/etc/motd'
else
  motd_path = '/etc/motd.local'
end

file motd_path do
  content "#{motd}\n"
  mode '0644'
  only_if { node[:opsworks][:instance][:id] != nil }
end

search(:node, 'role:db').each do |db|
  Chef::Log.info("db #{db[:ipaddress]}")
end
