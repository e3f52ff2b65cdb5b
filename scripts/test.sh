#!/usr/bin/env bash
# Installs everything Gatehouse's tests need on a Debian machine (PostgreSQL,
# Chromium, xmlsec1, the Python SAML service providers, aiosmtpd, the Node
# test dependencies), starts PostgreSQL when it is not running, and runs the
# whole suite: Go tests on SQLite and PostgreSQL, short fuzzing of every
# parser of outside input, and the Node/browser tests.
# It fails when any part cannot run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v xmlsec1 >/dev/null 2>&1 || need_apt+=(xmlsec1)
# OpenSAML's samlsign and the OASIS SAML schemas (with xmllint) check what
# Gatehouse sends, independently of the Go and Node SAML libraries.
command -v samlsign >/dev/null 2>&1 || need_apt+=(opensaml-tools)
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
[ -f /usr/share/xml/opensaml/saml-schema-metadata-2.0.xsd ] || need_apt+=(opensaml-schemas)
[ -f /usr/share/xml/xmltooling/xmldsig-core-schema.xsd ] || need_apt+=(xmltooling-schemas)
# OneLogin's python3-saml toolkit as a service provider (Debian's Python).
/usr/bin/python3 -c 'import onelogin.saml2.auth, xmlsec' >/dev/null 2>&1 || need_apt+=(python3-onelogin-saml2)
# PySAML2 (python3-pysaml2, over the xmlsec1 command) and Lasso (python3-lasso,
# the library behind Apache mod_auth_mellon) as two more service providers.
/usr/bin/python3 -c 'import saml2.client, saml2.sigver' >/dev/null 2>&1 || need_apt+=(python3-pysaml2)
/usr/bin/python3 -c 'import lasso' >/dev/null 2>&1 || need_apt+=(python3-lasso)
# The AWS CLI (Debian's awscli) against the AWS sandbox.
[ -x /usr/bin/aws ] || need_apt+=(awscli)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The real SMTP server of the email tests (Debian's python3, not one on PATH).
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need_apt+=(python3-aiosmtpd)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PostgreSQL: use the server at GATEHOUSE_TEST_POSTGRES, or the local one,
# starting it (and allowing the postgres user in with a password) if needed.
if [ -z "${GATEHOUSE_TEST_POSTGRES:-}" ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    log "starting PostgreSQL"
    ver=$(ls /etc/postgresql | sort -V | tail -1)
    if [ -z "$ver" ]; then
      ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
      pg_createcluster "$ver" main >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  if psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -qtAc 'select 1' >/dev/null 2>&1; then
    export GATEHOUSE_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
  else
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'gatehouse-test'\"" >/dev/null
    export GATEHOUSE_TEST_POSTGRES="postgres://postgres:gatehouse-test@127.0.0.1:5432/postgres?sslmode=disable"
  fi
fi
psql "$GATEHOUSE_TEST_POSTGRES" -qtAc 'select 1' >/dev/null
export GATEHOUSE_REQUIRE_XMLSEC1=1 GATEHOUSE_REQUIRE_OPENSAML=1
export GATEHOUSE_REQUIRE_AIOSMTPD=1 GATEHOUSE_REQUIRE_AWSCLI=1
export GATEHOUSE_REQUIRE_PYSAML2=1 GATEHOUSE_REQUIRE_LASSO=1

log "go vet"
go vet ./...

log "go test (SQLite and PostgreSQL)"
go test -count=1 -timeout 40m ./...

log "fuzzing each parser of outside input briefly"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    fuzz() { go test -run='^$' -fuzz="^${f}\$" -fuzztime="${FUZZTIME:-4s}" -fuzzminimizetime=50x "$pkg" 2>&1; }
    if ! out=$(fuzz); then
      # The fuzzer can stop at the deadline in the middle of its own
      # bookkeeping and report "context deadline exceeded" without any
      # failing input; that run is repeated once. A real failure writes
      # its input under testdata/fuzz and fails both times.
      if grep -q "context deadline exceeded" <<<"$out" && ! grep -q "Failing input written" <<<"$out" && out=$(fuzz); then
        :
      else
        echo "$out" | tail -40
        echo "FAIL: fuzzing $pkg $f"
        exit 1
      fi
    fi
    echo "fuzzed $pkg $f"
  done
done

if [ -f e2e/package.json ]; then
  log "Node interop and browser tests"
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error && npm test)
fi
log "all tests passed"
