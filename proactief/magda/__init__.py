"""The MAGDA registry layer: messages, the gateway client and the built-in simulator.

- `messages`: MAGDA's SOAP requests, and reading its answers into `proactief.facts`;
- `answers`: MAGDA answers written from facts (what the simulator sends);
- `client`: `RegistryClient`, the async client of the gateway;
- `simulator`: a synthetic city served over HTTP in MAGDA's message format;
- `cli`: the `proactief registry ...` and `proactief magda ...` commands.
"""
