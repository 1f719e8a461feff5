include_recipe 'phpapp::vhost'

%w[php php-mysql libapache2-mod-php].each do |pkg|
  package pkg do
    action :install
  end
end

service 'apache2' do
  supports status: true, restart: true, reload: true
  action [:enable, :start]
end

execute 'enable phpapp site' do
  command 'a2ensite phpapp'
  not_if { ::File.exist?('/etc/apache2/sites-enabled/phpapp.conf') }
  notifies :reload, 'service[apache2]'
end
