"""Policy instruments: the levers of China's three pillars and of the G-7's answer.

A scenario's timeline is a list of dated events, each one instrument with its parameters (see
`reesim.policy.instruments`). `PolicySchedule` compiles the timeline against a world into the engine's
wedge schedule (`reesim.engine.wedges`): each month it asks every event in force for its wedges, given
what the engine observed the month before, and combines them (caps by minimum, tax rates by sum,
capacity factors by product). Instruments that add plants change the world before the run
(`reesim.policy.plants`). Payments and revenues of every instrument go to a ledger that the results
report as `fiscal_cost`.
"""

from reesim.policy.instruments import INSTRUMENTS, Event

__all__ = ["INSTRUMENTS", "Event"]
