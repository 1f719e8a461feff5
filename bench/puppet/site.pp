# The benchmark's WordPress web host, as bench/cookbooks/wpbench and
# bench/ansible/site.yml describe it; the templates render the same bytes.
# Run: puppet apply --modulepath bench/puppet/modules bench/puppet/site.pp
$wp = {
  'db_name'      => 'wordpress',
  'db_user'      => 'wp',
  'db_password'  => 'bench-secret',
  'db_host'      => 'localhost',
  'table_prefix' => 'wp_',
  'auth_key'     => 'put-a-unique-phrase-here',
}
$vhost = {
  'server_name' => 'wordpress.example.com',
  'docroot'     => '/srv/www/wordpress',
}

package { ['apache2', 'php', 'libapache2-mod-php', 'php-mysql']:
  ensure => installed,
}

# PID 1 is not systemd here: drive the init script.
service { 'apache2':
  ensure   => running,
  enable   => true,
  provider => 'debian',
  restart  => '/usr/sbin/service apache2 reload',
  require  => Package['apache2'],
}

# Puppet creates no parents: the others' recursive creation, spelt out.
file { ['/srv/www', '/srv/www/wordpress', '/srv/www/wordpress/shared']:
  ensure => directory,
}

file { '/srv/www/wordpress/shared/uploads':
  ensure => directory,
  owner  => 'www-data',
  group  => 'www-data',
  mode   => '0755',
}

file { '/srv/www/wordpress/shared/wp-config.php':
  ensure    => file,
  owner     => 'root',
  group     => 'www-data',
  mode      => '0640',
  show_diff => false,
  content   => epp('wpbench/wp-config.php.epp', $wp),
}

file { '/etc/apache2/sites-available/wordpress.conf':
  ensure  => file,
  owner   => 'root',
  group   => 'root',
  mode    => '0644',
  content => epp('wpbench/wordpress.conf.epp', $vhost),
  require => Package['apache2'],
  notify  => Service['apache2'],
}

file { '/etc/apache2/sites-enabled/wordpress.conf':
  ensure  => link,
  target  => '/etc/apache2/sites-available/wordpress.conf',
  require => Package['apache2'],
  notify  => Service['apache2'],
}
