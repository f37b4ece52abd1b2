"""World datasets: component tables, their schema, loading and consistency checks."""

from reesim.world.schema import Schema, load_schema
from reesim.world.world import BUILTIN_WORLDS, DEFAULT_WORLD, World, base_year_of, load_world, world_path

__all__ = ["BUILTIN_WORLDS", "DEFAULT_WORLD", "Schema", "World", "base_year_of", "load_schema", "load_world",
           "world_path"]
