-- wordpress::shutdown stops Apache (and php-fpm) so the instance stops
-- taking requests before it goes away. EFS stays mounted: the instance
-- is terminating and writes in flight must finish.
include_recipe "apache2::stop"
if node.php.handler == "fpm" then
  service "php-fpm (stop)" {
    service_name = node.php.fpm_service,
    init_command = node.php.fpm_init_command,
    supports = { status = true },
    action = "stop",
  }
end
