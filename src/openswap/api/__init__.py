"""The REST adapter (FastAPI): `build_api(ctx, settings)` in `app`, routers listed in `routers`.

Routes are thin: they turn a request into a service command, call the use case and return
its result. Errors are mapped to RFC 9457 problem details in one place (`problems`).
"""
