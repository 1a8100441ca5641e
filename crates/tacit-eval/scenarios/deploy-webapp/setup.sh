#!/usr/bin/env bash
# The bundled scenario, as shipped in examples/ (SESSION.md there).
exec bash "$(dirname "$0")/../../../../examples/deploy-webapp/setup.sh" "$@"
