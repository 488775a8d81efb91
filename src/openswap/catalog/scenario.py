"""Scenario files (YAML) into `openswap.domain.scenario.Scenario`, and the built-in scenarios.

A scenario names its corridors, stations, fleets and run settings and refers to the catalog by
id: the built-in specifications plus any extra catalog files it lists (paths relative to the
scenario file). Every problem is collected with its file, line and field and raised together as
one `ScenarioError`. The format is described in `docs/design/scenarios.md`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from openswap.catalog.entries import describe_error, suggest
from openswap.catalog.loader import CatalogText, builtin_catalog, builtin_texts, load_catalog_texts
from openswap.catalog.scenario_schema import (
    CorridorEntry,
    FleetEntry,
    ScenarioFile,
    StationEntry,
    StationSettings,
    TariffEntry,
)
from openswap.catalog.schema import SourceEntry
from openswap.catalog.yamlsource import PathKey, YamlDocument, YamlPath, parse_yaml
from openswap.domain.catalog import Catalog
from openswap.domain.energy import (
    SUMMER_AC_PENALTY_FRAC,
    EnergyModelParams,
    Segment,
    build_coastal_rolling_profile,
)
from openswap.domain.errors import InputError, Problem, ScenarioError
from openswap.domain.feasibility import check_scenario
from openswap.domain.scenario import (
    Corridor,
    Direction,
    DriverRules,
    EconomicsInputs,
    Fleet,
    Scenario,
    StationSite,
    SwapTiming,
)
from openswap.domain.specs import Source
from openswap.domain.tariff import FUJIAN_TOU_TARIFF, TariffPeriod, TimeOfUseTariff

M = TypeVar("M", bound=BaseModel)

BUILTIN_SCENARIO_PREFIX = "builtin:scenarios/"
_SCENARIO_DIR = "scenarios"
SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
_KM_TOLERANCE = 1e-6  # explicit segments must add up to the corridor length within this


def _bimodal_weights(peaks_h: tuple[float, ...], width_h: float, base: float) -> tuple[float, ...]:
    """24 hourly weights: a constant base plus a Gaussian bump (circular in time) per peak."""
    out = []
    for hour in range(24):
        bump = 0.0
        for peak in peaks_h:
            d = min(abs(hour - peak), 24 - abs(hour - peak))
            bump += math.exp(-0.5 * (d / width_h) ** 2)
        out.append(round(base + bump, 4))
    return tuple(out)


# Named departure-time profiles (24 hourly weights). "bimodal_07_19" is the arrival profile of
# domain facts section 8 (demand.arrival_profile), shaped by us: peaks at 07:00 and 19:00 with a
# 1.5 h spread on a base of night-time trunk freight [estimate].
DEPARTURE_PROFILES: Mapping[str, tuple[float, ...]] = {
    "uniform": (1.0,) * 24,
    "bimodal_07_19": _bimodal_weights((7.0, 19.0), 1.5, 0.25),
    "daytime_06_22": tuple(1.0 if 6 <= h < 22 else 0.1 for h in range(24)),  # [estimate]
}

BUILTIN_TARIFFS: Mapping[str, TimeOfUseTariff] = {"fujian-tou-2024": FUJIAN_TOU_TARIFF}

_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_field(field: str) -> YamlPath:
    """`fleets[1].pack_model` -> `("fleets", 1, "pack_model")` (inverse of `format_path`)."""
    return tuple(int(index) if index else name for name, index in _FIELD_PART.findall(field or ""))


class _Builder:
    """Validates one scenario document and builds the domain objects, collecting problems."""

    def __init__(self, doc: YamlDocument, read_catalog: Callable[[str], CatalogText | str]) -> None:
        self.doc = doc
        self.read_catalog = read_catalog
        self.problems: list[Problem] = []

    def report(self, message: str, *path: PathKey) -> None:
        self.problems.append(self.doc.problem(message, tuple(path)))

    def validate(self, model: type[M], data: Any, path: YamlPath) -> M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                self.problems.append(
                    self.doc.problem(describe_error(err, model), (*path, *err["loc"]))
                )
            return None

    def validate_list(self, model: type[M], section: str, items: Any) -> list[M | None]:
        if not isinstance(items, list):
            return []
        return [self.validate(model, item, (section, i)) for i, item in enumerate(items)]

    def reject_duplicates(self, section: str, entries: Sequence[Any]) -> None:
        first: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if entry is None:
                continue
            if entry.id in first:
                line = self.doc.line_of((section, first[entry.id], "id"))
                self.report(
                    f"duplicate id {entry.id!r} (first at line {line})", section, index, "id"
                )
            else:
                first[entry.id] = index

    def unknown(self, kind: str, ident: str, known: Sequence[str], *path: str | int) -> None:
        close = suggest(ident, list(known))
        if close:
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?"
        elif known:
            hint = f" (known: {', '.join(list(known)[:8])}{', ...' if len(known) > 8 else ''})"
        else:
            hint = f" (no {kind} is defined)"
        self.report(f"unknown {kind} {ident!r}{hint}", *path)

    # --- sections ----------------------------------------------------------------------------

    def catalog(self, files: list[str]) -> Catalog | None:
        if not files:
            return builtin_catalog(assets=False)
        texts = builtin_texts(assets=False)
        for index, name in enumerate(files):
            read = self.read_catalog(name)
            if isinstance(read, str):
                self.report(f"cannot read catalog file {name!r}: {read}", "catalog", index)
            else:
                texts.append(read)
        try:
            return load_catalog_texts(texts)
        except InputError as exc:
            self.problems.extend(exc.problems)
            return None

    def tariffs(self, entries: list[TariffEntry | None]) -> dict[str, TimeOfUseTariff]:
        out = dict(BUILTIN_TARIFFS)
        for index, e in enumerate(entries):
            if e is None:
                continue
            if e.id in BUILTIN_TARIFFS:
                self.report(f"tariff id {e.id!r} is built in; choose another id", "tariffs", index)
                continue
            periods = tuple(
                TariffPeriod(p.name, p.price_cny_per_kwh, tuple(p.hours)) for p in e.periods
            )
            source = Source(e.source.ref, e.source.confidence) if e.source else None
            try:
                out[e.id] = TimeOfUseTariff(e.id, periods, e.demand_charge_cny_per_kw_month, source)
            except InputError as exc:
                for p in exc.problems:
                    self.report(p.message, "tariffs", index, *parse_field(p.field or ""))
        return out

    def corridor(self, index: int, e: CorridorEntry) -> Corridor | None:
        at = ("corridors", index)
        ok = True
        for name, km in e.waypoints.items():
            if km > e.length_km:
                ok = False
                self.report(
                    f"waypoint {name!r} at km {km:g} lies beyond the corridor's {e.length_km:g} km",
                    *at,
                    "waypoints",
                    name,
                )
        profile: tuple[Segment, ...] = ()
        if e.grade_profile == "explicit":
            if not e.segments:
                self.report("grade_profile explicit needs a list of segments", *at, "segments")
                return None
            profile = tuple(
                Segment(s.length_km, s.grade_frac, s.speed_kmh or e.cruise_speed_kmh)
                for s in e.segments
            )
            total = math.fsum(s.length_km for s in profile)
            if abs(total - e.length_km) > _KM_TOLERANCE * max(1.0, e.length_km):
                self.report(
                    f"segments add up to {total:g} km, not the corridor's {e.length_km:g} km",
                    *at,
                    "segments",
                )
                return None
        elif e.segments is not None:
            self.report(
                f"segments are only read with grade_profile explicit, not {e.grade_profile}",
                *at,
                "segments",
            )
            return None
        elif e.grade_profile == "coastal_rolling":
            rng = random.Random(e.grade_seed)
            profile = build_coastal_rolling_profile(e.length_km, rng, e.cruise_speed_kmh)
        else:
            profile = (Segment(e.length_km, 0.0, e.cruise_speed_kmh),)
        if e.forward_label == e.backward_label:
            ok = False
            self.report("forward and backward labels must differ", *at, "backward_label")
        if not ok:
            return None
        return Corridor(
            e.id,
            e.name,
            e.length_km,
            tuple(e.waypoints.items()),
            profile,
            e.forward_label,
            e.backward_label,
        )

    def directions(self, corridor: Corridor, value: str, *path: str | int) -> frozenset[Direction]:
        table = {
            "both": frozenset(Direction),
            "forward": frozenset({Direction.FORWARD}),
            "backward": frozenset({Direction.BACKWARD}),
            corridor.forward_label: frozenset({Direction.FORWARD}),
            corridor.backward_label: frozenset({Direction.BACKWARD}),
        }
        if value not in table:
            self.report(
                f"direction {value!r} is not one of: {', '.join(table)}", *path, "direction"
            )
            return frozenset()
        return table[value]

    def station(
        self,
        index: int,
        e: StationEntry,
        defaults: StationSettings,
        catalog: Catalog,
        corridors: Mapping[str, Corridor],
        tariffs: Mapping[str, TimeOfUseTariff],
    ) -> StationSite | None:
        at = ("stations", index)
        before = len(self.problems)
        corridor = corridors.get(e.corridor)
        if corridor is None:
            self.unknown("corridor", e.corridor, list(corridors), *at, "corridor")
        elif e.km > corridor.length_km:
            self.report(
                f"km {e.km:g} lies outside corridor {corridor.id!r} (0-{corridor.length_km:g} km)",
                *at,
                "km",
            )
        directions = self.directions(corridor, e.direction, *at) if corridor else frozenset()
        design = catalog.station_designs.get(e.design)
        if design is None:
            self.unknown("station design", e.design, sorted(catalog.station_designs), *at, "design")
        stock = []
        for model_id, count in e.stock.items():
            model = catalog.pack_models.get(model_id)
            if model is None:
                self.unknown(
                    "pack model", model_id, sorted(catalog.pack_models), *at, "stock", model_id
                )
            else:
                stock.append((model, count))
        adapters = []
        for i, adapter_id in enumerate(e.adapters):
            adapter = catalog.adapters.get(adapter_id)
            if adapter is None:
                self.unknown("adapter", adapter_id, sorted(catalog.adapters), *at, "adapters", i)
            else:
                adapters.append(adapter)

        def setting(name: str) -> Any:
            own = getattr(e, name)
            return own if own is not None else getattr(defaults, name)

        tariff_id = setting("tariff") or "fujian-tou-2024"
        tariff = tariffs.get(tariff_id)
        if tariff is None:
            where = (*at, "tariff") if e.tariff else ("station_defaults", "tariff")
            self.unknown("tariff", tariff_id, list(tariffs), *where)
        if design is None or corridor is None or tariff is None or len(self.problems) > before:
            return None
        grid = {
            name: value
            for name in ("grid_kva", "power_factor", "aux_load_kw")
            if (value := setting(name)) is not None and value != getattr(design, name)
        }
        if grid:
            design = dataclasses.replace(design, **grid)
        slots = setting("slots") or design.slots
        bays = setting("bays") or design.bays
        charger_kw = setting("charger_kw_per_slot") or max(c.max_power_kw for c in design.chargers)
        efficiency = setting("charger_efficiency") or 0.95  # domain facts section 8 [estimate]
        capex = setting("capex_cny")
        return StationSite(
            id=e.id,
            name=e.name,
            corridor=corridor.id,
            km=e.km,
            directions=directions,
            design=design,
            stock=tuple(stock),
            slots=slots,
            bays=bays,
            charger_power_kw=charger_kw,
            charger_efficiency=efficiency,
            tariff=tariff,
            adapters=tuple(adapters),
            capex_cny=10_000_000.0 if capex is None else capex,
            sources=_sources(e.sources),
        )

    def place(self, corridor: Corridor, value: str | float, *path: str | int) -> float | None:
        if isinstance(value, str):
            waypoints = dict(corridor.waypoints)
            if value not in waypoints:
                self.unknown(f"waypoint of {corridor.id!r}", value, list(waypoints), *path)
                return None
            return waypoints[value]
        if value > corridor.length_km:
            self.report(
                f"km {value:g} lies outside corridor {corridor.id!r} (0-{corridor.length_km:g} km)",
                *path,
            )
            return None
        return value

    def fleet(
        self, index: int, e: FleetEntry, catalog: Catalog, corridors: Mapping[str, Corridor]
    ) -> Fleet | None:
        at = ("fleets", index)
        before = len(self.problems)
        vehicle = catalog.vehicle_models.get(e.vehicle_model)
        if vehicle is None:
            self.unknown(
                "vehicle model",
                e.vehicle_model,
                sorted(catalog.vehicle_models),
                *at,
                "vehicle_model",
            )
        elif e.packs_per_vehicle > vehicle.pack_positions:
            self.report(
                f"packs_per_vehicle {e.packs_per_vehicle} exceeds the {vehicle.pack_positions} "
                f"pack positions of vehicle model {vehicle.id!r}",
                *at,
                "packs_per_vehicle",
            )
        elif e.empty_mass_kg + e.payload_kg > vehicle.gcw_kg:
            self.report(
                f"empty_mass_kg + payload_kg = {e.empty_mass_kg + e.payload_kg:g} kg exceeds the "
                f"{vehicle.gcw_kg:g} kg gross combination weight of {vehicle.id!r}",
                *at,
                "payload_kg",
            )
        pack = catalog.pack_models.get(e.pack_model)
        if pack is None:
            self.unknown("pack model", e.pack_model, sorted(catalog.pack_models), *at, "pack_model")
        adapters = []
        for i, adapter_id in enumerate(e.adapters):
            adapter = catalog.adapters.get(adapter_id)
            if adapter is None:
                self.unknown("adapter", adapter_id, sorted(catalog.adapters), *at, "adapters", i)
            else:
                adapters.append(adapter)
        corridor = corridors.get(e.corridor)
        origin = destination = None
        if corridor is None:
            self.unknown("corridor", e.corridor, list(corridors), *at, "corridor")
        else:
            origin = self.place(corridor, e.origin, *at, "origin")
            destination = self.place(corridor, e.destination, *at, "destination")
            if origin is not None and origin == destination:
                self.report("origin and destination are the same place", *at, "destination")
        weights: tuple[float, ...] = ()
        if isinstance(e.departure_profile, str):
            named = DEPARTURE_PROFILES.get(e.departure_profile)
            if named is None:
                self.unknown(
                    "departure profile",
                    e.departure_profile,
                    list(DEPARTURE_PROFILES),
                    *at,
                    "departure_profile",
                )
            else:
                weights = named
        else:
            weights = e.departure_profile
        if len(self.problems) > before:
            return None
        if vehicle is None or pack is None or corridor is None:  # reported above
            return None
        if origin is None or destination is None:
            return None
        return Fleet(
            id=e.id,
            vehicle_model=vehicle,
            count=e.count,
            pack_model=pack,
            packs_per_vehicle=e.packs_per_vehicle,
            corridor=corridor.id,
            origin_km=origin,
            destination_km=destination,
            trips_per_day=e.trips_per_day,
            departure_weights=weights,
            loaded_share=e.loaded_share,
            payload_kg=e.payload_kg,
            empty_mass_kg=e.empty_mass_kg,
            cruise_speed_kmh=e.cruise_speed_kmh or corridor.profile[0].speed_kmh,
            informed_share=e.informed_share,
            initial_soc=e.initial_soc,
            turnaround_s=e.turnaround_min * SECONDS_PER_MINUTE,
            depot_charge_kw=e.depot_charge_kw,
            adapters=tuple(adapters),
            return_trips=e.return_trips,
        )

    def build(self) -> Scenario | None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.report("a scenario file must be a mapping of fields (id, name, corridors, ...)")
            return None
        head = self.validate(ScenarioFile, data, ())
        corridor_entries = self.validate_list(CorridorEntry, "corridors", data.get("corridors"))
        tariff_entries = self.validate_list(TariffEntry, "tariffs", data.get("tariffs"))
        station_entries = self.validate_list(StationEntry, "stations", data.get("stations"))
        fleet_entries = self.validate_list(FleetEntry, "fleets", data.get("fleets"))
        if isinstance(data.get("corridors"), list) and not data["corridors"]:
            self.report("at least one corridor is needed", "corridors")
        if isinstance(data.get("fleets"), list) and not data["fleets"]:
            self.report("at least one fleet is needed", "fleets")
        for section, entries in (
            ("corridors", corridor_entries),
            ("tariffs", tariff_entries),
            ("stations", station_entries),
            ("fleets", fleet_entries),
        ):
            self.reject_duplicates(section, entries)
        catalog = self.catalog(head.catalog if head else [])
        if catalog is None:
            return None
        tariffs = self.tariffs(tariff_entries)
        corridors: dict[str, Corridor] = {}
        for index, ce in enumerate(corridor_entries):
            built = self.corridor(index, ce) if ce else None
            if built is not None and built.id not in corridors:
                corridors[built.id] = built
        defaults = head.station_defaults if head else StationSettings()
        stations = [
            self.station(i, se, defaults, catalog, corridors, tariffs) if se else None
            for i, se in enumerate(station_entries)
        ]
        fleets = [
            self.fleet(i, fe, catalog, corridors) if fe else None
            for i, fe in enumerate(fleet_entries)
        ]
        for section, entries in (("stations", station_entries), ("fleets", fleet_entries)):
            raw = data.get(section)
            for index, entry in enumerate(entries):
                if entry is None and isinstance(raw, list) and isinstance(raw[index], dict):
                    self.raw_references(section, index, raw[index], catalog, corridors)
        settings = self.settings(head) if head else None
        if self.problems or head is None or settings is None:
            return None
        energy, timing, driver, economics = settings
        return Scenario(
            id=head.id,
            name=head.name,
            description=head.description,
            catalog=catalog,
            corridors=tuple(corridors.values()),
            stations=tuple(s for s in stations if s is not None),
            fleets=tuple(f for f in fleets if f is not None),
            energy=energy,
            timing=timing,
            driver=driver,
            economics=economics,
            days=head.run.days,
            warmup_days=head.run.warmup_days,
            seed=head.run.seed,
            replications=head.run.replications,
            reserve_frac=head.reserve_frac,
            charged_soc=head.charged_soc,
            sources=_sources(head.sources),
        )

    def raw_references(
        self,
        section: str,
        index: int,
        item: dict[str, Any],
        catalog: Catalog,
        corridors: Mapping[str, Corridor],
    ) -> None:
        """Check the ids of an entry that failed validation, so none of its problems hide."""
        tables: dict[str, tuple[str, Mapping[str, Any]]] = {
            "corridor": ("corridor", corridors),
            "design": ("station design", catalog.station_designs),
            "vehicle_model": ("vehicle model", catalog.vehicle_models),
            "pack_model": ("pack model", catalog.pack_models),
        }
        for name, (kind, table) in tables.items():
            value = item.get(name)
            if isinstance(value, str) and value not in table:
                self.unknown(kind, value, sorted(table), section, index, name)
        stock = item.get("stock") if section == "stations" else None
        if isinstance(stock, dict):
            for model_id in stock:
                if isinstance(model_id, str) and model_id not in catalog.pack_models:
                    models = sorted(catalog.pack_models)
                    self.unknown("pack model", model_id, models, section, index, "stock", model_id)

    def settings(
        self, head: ScenarioFile
    ) -> tuple[EnergyModelParams, SwapTiming, DriverRules, EconomicsInputs] | None:
        before = len(self.problems)
        given = head.energy.model_dump(exclude_none=True, exclude={"summer_ac_penalty"})
        if head.energy.summer_ac_penalty:
            if "hvac_penalty_frac" in given:
                self.report(
                    "set either summer_ac_penalty or hvac_penalty_frac, not both",
                    "energy",
                    "summer_ac_penalty",
                )
            given["hvac_penalty_frac"] = SUMMER_AC_PENALTY_FRAC
        energy = EnergyModelParams(**given)
        service, overhead = head.timing.swap_service_min, head.timing.entry_exit_min
        if not service.min <= service.mode <= service.max:
            self.report("needs min <= mode <= max", "timing", "swap_service_min")
        if not overhead.min <= overhead.max:
            self.report("needs min <= max", "timing", "entry_exit_min")
        timing = SwapTiming(
            service_min_s=service.min * SECONDS_PER_MINUTE,
            service_mode_s=service.mode * SECONDS_PER_MINUTE,
            service_max_s=service.max * SECONDS_PER_MINUTE,
            overhead_min_s=overhead.min * SECONDS_PER_MINUTE,
            overhead_max_s=overhead.max * SECONDS_PER_MINUTE,
            patience_s=head.timing.patience_min * SECONDS_PER_MINUTE,
            exponential_service=head.timing.exponential_service,
        )
        driver = DriverRules(
            max_continuous_drive_s=head.driver.max_continuous_drive_h * SECONDS_PER_HOUR,
            min_rest_s=head.driver.min_rest_min * SECONDS_PER_MINUTE,
        )
        economics = EconomicsInputs(**head.economics.model_dump(exclude_none=True))
        if head.run.warmup_days >= head.run.days:
            self.report(
                f"warmup_days {head.run.warmup_days:g} must be shorter than days {head.run.days:g}",
                "run",
                "warmup_days",
            )
        if len(self.problems) > before:
            return None
        return energy, timing, driver, economics


def _sources(entries: list[SourceEntry]) -> tuple[Source, ...]:
    return tuple(Source(s.ref, s.confidence) for s in entries)


def _file_reader(base: Path) -> Callable[[str], CatalogText | str]:
    def read(name: str) -> CatalogText | str:
        path = base / name
        try:
            return CatalogText(str(path), path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)

    return read


def _build(doc: YamlDocument, read: Callable[[str], CatalogText | str]) -> Scenario:
    builder = _Builder(doc, read)
    scenario = builder.build()
    if scenario is None:
        problems = builder.problems or [Problem("the scenario could not be built", doc.file)]
        raise ScenarioError(_sorted(problems, doc.file))
    return scenario


def _sorted(problems: list[Problem], file: str) -> list[Problem]:
    # The scenario file first, by line; then problems in other (catalog) files.
    return sorted(problems, key=lambda p: (p.file != file, p.file or "", p.line or 0))


def _parse(text: str, file: str) -> YamlDocument:
    try:
        return parse_yaml(text, file)
    except InputError as exc:
        raise ScenarioError(exc.problems) from None


def load_scenario_text(text: str, file: str, base_dir: Path | None = None) -> Scenario:
    """Parse and build a scenario from YAML `text`; `file` names it in messages.

    Extra catalog files are read relative to `base_dir` (default: the current directory).
    Raises `ScenarioError` with every problem found (file, line, field).
    """
    return _build(_parse(text, file), _file_reader(base_dir or Path()))


def load_scenario_data(data: Mapping[str, Any], file: str = "<data>") -> Scenario:
    """Build a scenario from already-parsed data (as `yaml.safe_load` gives); no line numbers."""
    return _build(YamlDocument(file, dict(data), {}), _file_reader(Path()))


def load_scenario(path: Path) -> Scenario:
    """Read the scenario file at `path` (extra catalog files relative to it).

    Raises `ScenarioError` with every problem, an unreadable file included. Feasibility is not
    checked here: see `openswap.domain.feasibility.check_scenario` and `check_scenario_file`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError([Problem(f"cannot read scenario file: {reason}", str(path))]) from None
    return load_scenario_text(text, str(path), path.parent)


def check_scenario_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    """Load `path` and check the scenario's feasibility: (scenario or None, every problem).

    Feasibility problems are located at the line of the field they name.
    """
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        return None, list(exc.problems)
    doc = _parse(Path(path).read_text(encoding="utf-8"), str(path))
    return scenario, locate(check_scenario(scenario), doc)


def locate(problems: Sequence[Problem], doc: YamlDocument) -> list[Problem]:
    """Give domain problems (field only) the file and line of that field in `doc`."""
    return [
        p
        if p.file is not None
        else Problem(p.message, doc.file, doc.line_of(parse_field(p.field or "")), p.field)
        for p in problems
    ]


def _builtin_dir() -> Any:
    return resources.files("openswap.catalog").joinpath("data").joinpath(_SCENARIO_DIR)


def builtin_scenario_names() -> list[str]:
    """Names of the scenarios shipped as package data, sorted."""
    return sorted(
        f.name.removesuffix(".yaml") for f in _builtin_dir().iterdir() if f.name.endswith(".yaml")
    )


def builtin_scenario_text(name: str) -> CatalogText:
    """The YAML text of built-in scenario `name`, reported as `builtin:scenarios/<name>.yaml`."""
    names = builtin_scenario_names()
    if name not in names:
        close = suggest(name, names)
        hint = f"; did you mean {close[0]!r}?" if close else f" (built in: {', '.join(names)})"
        raise ScenarioError([Problem(f"unknown built-in scenario {name!r}{hint}")])
    folder = _builtin_dir()
    file = f"{name}.yaml"
    return CatalogText(f"{BUILTIN_SCENARIO_PREFIX}{file}", folder.joinpath(file).read_text("utf-8"))


@functools.cache
def builtin_scenario(name: str) -> Scenario:
    """The built-in scenario `name` (see `builtin_scenario_names`); cached, read-only."""
    file, text = builtin_scenario_text(name)
    folder = _builtin_dir()

    def read(rel: str) -> CatalogText | str:
        try:
            return CatalogText(f"{BUILTIN_SCENARIO_PREFIX}{rel}", folder.joinpath(rel).read_text())
        except OSError as exc:
            return str(exc)

    return _build(_parse(text, file), read)


# --- writing ---------------------------------------------------------------------------------


def _tariff_id(tariff: TimeOfUseTariff, extra: dict[str, dict[str, Any]]) -> str:
    for ident, builtin in BUILTIN_TARIFFS.items():
        if tariff == builtin:
            return ident
    if tariff.name not in extra:
        entry: dict[str, Any] = {
            "id": tariff.name,
            "periods": [
                {"name": p.name, "price_cny_per_kwh": p.price_cny_per_kwh, "hours": list(p.hours)}
                for p in tariff.periods
            ],
        }
        if tariff.demand_charge_cny_per_kw_month is not None:
            entry["demand_charge_cny_per_kw_month"] = tariff.demand_charge_cny_per_kw_month
        if tariff.source is not None:
            entry["source"] = {"ref": tariff.source.ref, "confidence": tariff.source.confidence}
        extra[tariff.name] = entry
    return tariff.name


def _corridor_data(c: Corridor) -> dict[str, Any]:
    speed = c.profile[0].speed_kmh
    out: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "length_km": c.length_km,
        "waypoints": dict(c.waypoints),
        "cruise_speed_kmh": speed,
        "forward_label": c.forward_label,
        "backward_label": c.backward_label,
    }
    if c.profile == (Segment(c.length_km, 0.0, speed),):
        out["grade_profile"] = "flat"
    else:
        out["grade_profile"] = "explicit"
        out["segments"] = [
            {"length_km": s.length_km, "grade_frac": s.grade_frac}
            | ({} if s.speed_kmh == speed else {"speed_kmh": s.speed_kmh})
            for s in c.profile
        ]
    return out


def _direction_value(directions: frozenset[Direction]) -> str:
    if directions == frozenset(Direction):
        return "both"
    return next(iter(directions)).value


def _profile_value(weights: tuple[float, ...]) -> str | list[float]:
    for name, named in DEPARTURE_PROFILES.items():
        if weights == named:
            return name
    return list(weights)


def _source_list(sources: tuple[Source, ...]) -> list[dict[str, str]]:
    return [{"ref": s.ref, "confidence": s.confidence} for s in sources]


def scenario_to_data(scenario: Scenario, catalog_files: Sequence[str] = ()) -> dict[str, Any]:
    """A scenario as plain YAML-ready data that `load_scenario_data` builds back into an equal one.

    Grade profiles are written as explicit segments (the generator of a profile is not kept).
    Ids must resolve against the built-in catalog plus `catalog_files`.
    """
    extra_tariffs: dict[str, dict[str, Any]] = {}
    stations = []
    for s in scenario.stations:
        entry: dict[str, Any] = {
            "id": s.id,
            "name": s.name,
            "corridor": s.corridor,
            "km": s.km,
            "direction": _direction_value(s.directions),
            "design": s.design.id,
            "stock": {m.id: n for m, n in s.stock},
        }
        base = scenario.catalog.station_designs.get(s.design.id)
        for name in ("grid_kva", "power_factor", "aux_load_kw"):
            if base is None or getattr(base, name) != getattr(s.design, name):
                entry[name] = getattr(s.design, name)
        entry |= {
            "slots": s.slots,
            "bays": s.bays,
            "charger_kw_per_slot": s.charger_power_kw,
            "charger_efficiency": s.charger_efficiency,
            "capex_cny": s.capex_cny,
            "tariff": _tariff_id(s.tariff, extra_tariffs),
        }
        if s.adapters:
            entry["adapters"] = [a.id for a in s.adapters]
        if s.sources:
            entry["sources"] = _source_list(s.sources)
        stations.append(entry)
    fleets = [
        {
            "id": f.id,
            "vehicle_model": f.vehicle_model.id,
            "count": f.count,
            "pack_model": f.pack_model.id,
            "packs_per_vehicle": f.packs_per_vehicle,
            "corridor": f.corridor,
            "origin": f.origin_km,
            "destination": f.destination_km,
            "trips_per_day": f.trips_per_day,
            "departure_profile": _profile_value(f.departure_weights),
            "loaded_share": f.loaded_share,
            "payload_kg": f.payload_kg,
            "empty_mass_kg": f.empty_mass_kg,
            "cruise_speed_kmh": f.cruise_speed_kmh,
            "informed_share": f.informed_share,
            "initial_soc": f.initial_soc,
            "turnaround_min": f.turnaround_s / SECONDS_PER_MINUTE,
            "depot_charge_kw": f.depot_charge_kw,
            "adapters": [a.id for a in f.adapters],
            "return_trips": f.return_trips,
        }
        for f in scenario.fleets
    ]
    t = scenario.timing
    out: dict[str, Any] = {
        "id": scenario.id,
        "name": scenario.name,
        "description": scenario.description,
    }
    if catalog_files:
        out["catalog"] = list(catalog_files)
    if scenario.sources:
        out["sources"] = _source_list(scenario.sources)
    out |= {
        "corridors": [_corridor_data(c) for c in scenario.corridors],
        "tariffs": list(extra_tariffs.values()),
        "stations": stations,
        "fleets": fleets,
        "energy": dataclasses.asdict(scenario.energy),
        "timing": {
            "swap_service_min": {
                "min": t.service_min_s / SECONDS_PER_MINUTE,
                "mode": t.service_mode_s / SECONDS_PER_MINUTE,
                "max": t.service_max_s / SECONDS_PER_MINUTE,
            },
            "entry_exit_min": {
                "min": t.overhead_min_s / SECONDS_PER_MINUTE,
                "max": t.overhead_max_s / SECONDS_PER_MINUTE,
            },
            "patience_min": t.patience_s / SECONDS_PER_MINUTE,
            "exponential_service": t.exponential_service,
        },
        "driver": {
            "max_continuous_drive_h": scenario.driver.max_continuous_drive_s / SECONDS_PER_HOUR,
            "min_rest_min": scenario.driver.min_rest_s / SECONDS_PER_MINUTE,
        },
        "economics": dataclasses.asdict(scenario.economics),
        "run": {
            "days": scenario.days,
            "warmup_days": scenario.warmup_days,
            "seed": scenario.seed,
            "replications": scenario.replications,
        },
        "reserve_frac": scenario.reserve_frac,
        "charged_soc": scenario.charged_soc,
    }
    return out


def to_yaml_text(data: Mapping[str, Any], header: str = "") -> str:
    """YAML text of scenario data, keys in the order given; `header` becomes leading comments."""
    body = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + body


def scenario_to_yaml(scenario: Scenario, catalog_files: Sequence[str] = ()) -> str:
    """YAML text that `load_scenario_text` reads back into a scenario equal to `scenario`."""
    return to_yaml_text(scenario_to_data(scenario, catalog_files))
