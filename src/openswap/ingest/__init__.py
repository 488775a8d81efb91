"""The telemetry ingest adapter: MQTT subscriber (`mqtt`) and file import (`files`).

A delivery adapter like `api` and `ocpp`: it turns messages and files into
`services.health.IngestItem`s and calls `HealthService.ingest`; it never touches storage.
Topic scheme, payloads and delivery guarantees: docs/design/health.md ("Ingest adapter").
"""
