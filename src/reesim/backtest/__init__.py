"""The back-test of the 2010-2011 crisis: the record and the simulated figures set against it (docs/backtest.md)."""
