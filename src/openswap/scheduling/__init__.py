"""Schedulers: demand forecasts, the station charging LP and its MPC `Scheduler`, arrival
assignment and pack rebalancing (OR-Tools). Formulations: docs/design/scheduling.md."""
