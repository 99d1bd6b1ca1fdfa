"""The gateway under test: which build runs (a PyPI release, a wheel or sdist, a source
checkout) and with which settings (`perfkit gateway describe|settings|record`).

- build.py: a build named by what it is - kind, venv key (content hash), label, pip requirement
- release.py: the settings names an installed release reads, from its source (never imported)
- settings.py: settings files and NAME=VALUE pairs: parse, check against a release, mask, write
- record.py: gateway.json - a local stack's build and settings overrides, for run.json
- cli.py: the command line
"""
