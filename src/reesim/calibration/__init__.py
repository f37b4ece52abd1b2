"""Calibration of the behavioural parameters to the 2010-2011 crisis (docs/calibration.md)."""
