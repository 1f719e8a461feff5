-- deploy::default is deploy::php.
include_recipe "deploy::php"
