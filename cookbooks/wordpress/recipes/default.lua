-- wordpress::default is the whole WordPress setup and deploy in one run
-- (run-recipe wordpress on a fresh host).
include_recipe("apache2", "php", "wordpress::setup", "wordpress::deploy")
