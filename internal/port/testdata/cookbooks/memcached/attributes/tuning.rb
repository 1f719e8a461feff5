default[:memcached][:max_connections] = node[:memcached][:memory] * 16
default[:memcached][:options] = ["-c #{node[:memcached][:max_connections]}", '-t 4']
