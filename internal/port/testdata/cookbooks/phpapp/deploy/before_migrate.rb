# A deploy hook: runs in the new release before the switch.
Chef::Log.info("before_migrate in #{release_path}")
run "cd #{release_path} && composer install --no-dev --no-interaction"
if ::File.exist?(::File.join(release_path, 'artisan'))
  run "php #{release_path}/artisan migrate --force"
end
