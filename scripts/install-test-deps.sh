#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real, when they are missing:
#   postgresql  - a real PostgreSQL server for the feedback store tests (started per test run on loopback)
#   chromium    - a real browser for the demo EHR page tests (driven by playwright-core)
#   orthanc, orthanc-dicomweb - a real DICOMweb archive for the imaging tests (a private instance is
#                 started per test file on loopback by test/support/orthanc-server.ts; the system
#                 service the package installs is not used)
#   redis-server, haproxy - the shared replay store and the load balancer of the multi-instance test
#                 (test/integration/scale-out.test.ts) and of the scale-out benchmark; private
#                 processes on loopback, the system services are not used
# Runs as `pretest`, so `npm test` works on a fresh machine. Needs root (or sudo) only when installing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ -x /usr/sbin/Orthanc ] || need+=(orthanc)
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ ${#need[@]} -eq 0 ] && exit 0
echo "Installing Debian packages for the tests: ${need[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
