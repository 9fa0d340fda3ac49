#!/usr/bin/env bash
# Install what the platform needs, idempotently; fast when everything is present.
#   setup.sh python   the Python environment (.venv from requirements/runtime.txt), npm assets and the
#                     fonts the signed PDFs embed (Debian, as root)
#   setup.sh test     the above with requirements/test.txt (the runtime lock plus tests and linters), and
#                     redis-server, Chromium, PostgreSQL and nginx (Debian, as root)
#   setup.sh bench    wrk and Lighthouse for the benchmarks (after `setup.sh test`)
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-python}
PYTHON=${PYTHON:-python3}

missing=()
# What the platform itself needs (make run too): the fonts the PDF people sign embeds.
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)  # CJK text, also in screenshots
[ -f /usr/share/fonts/truetype/hanazono/HanaMinB.ttf ] || missing+=(fonts-hanazono)  # 生僻字 (CJK Ext. A-F)
if [ "$what" != python ]; then
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)  # tests render and read back the PDFs people sign
  command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)  # tests read our QR codes like a phone camera
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)  # the production-topology tests run infra/nginx.conf
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # their TLS certificate
  command -v curl >/dev/null 2>&1 || missing+=(curl)  # HTTP/2 through nginx
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
  id postgres >/dev/null 2>&1 || missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  elif [ "$what" = python ]; then
    echo "setup: for signing, please install: ${missing[*]} (Debian packages); everything else runs without" >&2
  else
    echo "setup: please install: ${missing[*]} (Debian packages)" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
# `python` installs the runtime lock; `test` and `bench` the test lock (runtime + test tools + linters).
lock=requirements/runtime.txt
[ "$what" = python ] || lock=requirements/test.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages from $lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
  echo "$want" > "$stamp"
fi

# Front-end assets we serve ourselves (API docs, QR codes), installed again whenever the lock changes;
# optional when npm is absent.
npm_stamp=node_modules/.package-lock.sha256
npm_want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ] && command -v npm >/dev/null 2>&1; then
  # --ignore-scripts: no package runs code at install (swagger-ui-dist pulls in a telemetry postinstall)
  if npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; then
    echo "$npm_want" > "$npm_stamp"
  else
    echo "setup: npm assets not installed; /schema and QR codes will lack their assets" >&2
  fi
fi

# Benchmarks (`make bench`): wrk as the load generator, Lighthouse from npm (bench/package-lock.json).
if [ "$what" = bench ]; then
  if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; }
    else
      echo "setup: please install wrk (Debian package)" >&2
      exit 1
    fi
  fi
  if [ -f bench/package-lock.json ] && [ ! -d bench/node_modules ]; then
    (cd bench && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
fi
