"""Built-in scenarios, one YAML file each; `reesim scenarios` lists them."""
