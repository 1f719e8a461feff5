-- apache2::service declares the Apache service without acting on it, so
-- any recipe can notify "service[apache2]" (reload after a vhost changed,
-- restart after a module) whatever the platform calls it.
service "apache2" {
  service_name = node.apache.service,
  init_command = node.apache.init_command,
  supports = { status = true, restart = true, reload = true },
  action = "nothing",
}
