-- apache2::stop stops Apache (shutdown: the instance stops answering
-- before it goes away, so the load balancer drains it).
-- Stopped on purpose: no longer watched.
node.default.stackagent.watch.services.apache2 = false

service "apache2 (stop)" {
  service_name = node.apache.service,
  init_command = node.apache.init_command,
  supports = { status = true },
  action = "stop",
}
