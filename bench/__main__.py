"""Run every benchmark: `python -m bench` (full sizes) or `python -m bench --quick`."""

from __future__ import annotations

import argparse

from bench import (
    bench_api,
    bench_compatibility,
    bench_health,
    bench_ingest,
    bench_ledger,
    bench_network,
    bench_ocpp,
    bench_scheduling,
    bench_sim_station,
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few runs: a smoke test, not figures"
    )
    parser.add_argument("--seed", type=int, default=20261122, help="seed of the synthetic catalog")
    args = parser.parse_args()
    bench_compatibility.run(quick=args.quick, seed=args.seed)
    print(
        "openswap benchmarks: one swap station against SimPy" + (" (quick)" if args.quick else "")
    )
    if args.quick:
        bench_sim_station.main(days=10.0, seed=args.seed, repeats=1)
    else:
        bench_sim_station.main(seed=args.seed)
    bench_network.run(quick=args.quick)
    bench_ledger.run(quick=args.quick)
    bench_scheduling.run(quick=args.quick)
    bench_health.run(quick=args.quick)
    bench_api.run(quick=args.quick)
    bench_ocpp.run(quick=args.quick)
    bench_ingest.run(quick=args.quick)


if __name__ == "__main__":
    main()
