# An OpsWorks-style web_app definition: one Apache vhost per app.
define :web_app, template: 'web_app.conf.erb', enable: true, notify: 'service[apache2]', notify_action: :reload do
  app_name = params[:name]
  template "#{params[:conf_dir]}/#{app_name}.conf" do
    source params[:template]
    owner 'root'
    group 'root'
    mode '0644'
    variables(
      server_name: params[:server_name],
      server_aliases: params[:server_aliases],
      docroot: params[:docroot],
      port: params[:port],
      log_dir: params[:log_dir]
    )
    notifies params[:notify_action], params[:notify], :delayed
  end
end
