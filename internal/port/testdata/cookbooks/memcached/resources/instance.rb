# A custom resource: one extra memcached instance config file.
property :instance_name, String, name_property: true
property :port, Integer, default: 11212
property :memory, Integer, default: 32
property :conf_dir, String, default: '/etc'

default_action :create

action :create do
  template "#{new_resource.conf_dir}/memcached_#{new_resource.instance_name}.conf" do
    source 'memcached.conf.erb'
    mode '0644'
    variables(memory: new_resource.memory, port: port, listen: ['127.0.0.1'], options: [], user: 'memcache')
  end
end

action :delete do
  file "#{new_resource.conf_dir}/memcached_#{new_resource.instance_name}.conf" do
    action :delete
  end
end
