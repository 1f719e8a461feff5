name 'memcached'
version '0.3.1'
description 'memcached with logrotate and a cron job'
