"""OCPP 2.1 / 2.0.1 central system for swap stations and chargers, and a station emulator.

Layout: `protocol` (frames, CALLERRORs, schema validation), `messages` (OCPP payloads to and
from the station use cases of `services.stations`), `handlers` (one thin function per action),
`session` (one station's websocket), `endpoint` (the ASGI route, authentication, the worker's
registry of sessions, command delivery across workers), `emulator` (the station side).
"""
