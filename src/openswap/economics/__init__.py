"""Economics engine: time-of-use tariffs, station finance, fleet cost per km and CO2 against diesel.

Imports only `openswap.domain`, the standard library and numpy. Every default names its source and
a confidence tag (domain facts sections 5 and 8); figures marked UNVERIFIED must be checked
before results are published.
"""
