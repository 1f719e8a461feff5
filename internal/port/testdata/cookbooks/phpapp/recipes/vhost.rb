# The vhost: files only (converges under --root).
conf_dir = node[:phpapp][:conf_dir] || '/etc/apache2/sites-available'

directory conf_dir do
  owner 'root'
  mode '0755'
  recursive true
end

web_app 'phpapp' do
  conf_dir conf_dir
  server_name node[:phpapp][:server_name]
  server_aliases node[:phpapp][:aliases]
  docroot node[:phpapp][:docroot]
  port node[:phpapp][:port]
  log_dir node[:phpapp][:log_dir]
  notify 'log[phpapp vhost changed]'
  notify_action :write
end

log 'phpapp vhost changed' do
  action :nothing
end

file ::File.join(conf_dir, 'phpapp.ini') do
  content node[:phpapp][:php_settings].map { |k, v| "#{k} = #{v}" }.join("\n")
  mode '0644'
end
