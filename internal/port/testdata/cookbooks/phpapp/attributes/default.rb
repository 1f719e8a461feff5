# Attribute precedence: default < normal (set) < override.
default[:phpapp][:docroot] = '/srv/www/phpapp/current'
default['phpapp']['server_name'] = 'www.example.com'
default[:phpapp][:aliases] = %w[example.com www.example.org]
default[:phpapp][:port] = 80
default[:phpapp][:php_settings] = { 'memory_limit' => '256M', max_execution_time: 60 }
node.default[:phpapp][:log_dir] = "/var/log/#{node[:phpapp][:server_name]}"
set[:phpapp][:environment] = 'production'
override[:phpapp][:port] = 8080
normal[:phpapp][:keep_releases] = 5
