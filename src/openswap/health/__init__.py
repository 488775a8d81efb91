"""Pack health engine: telemetry model, synthetic telemetry with known faults, SoH estimation,
ageing model and forecast, streaming and batch anomaly detection, and report data.

Imports `openswap.domain`, numpy and scipy only; no I/O, no clock, no global randomness.
"""
