"""The simulation engine: a monthly, batched, multi-stage rare-earth market with regional prices."""
