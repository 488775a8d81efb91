"""The discrete-event digital twin: a small deterministic event core, swap stations, policies.

Simulation time is float seconds since scenario start. Hot state lives in flat, index-addressed
lists; SimPy appears only in `bench/`, as the reference this core is measured against.
"""
