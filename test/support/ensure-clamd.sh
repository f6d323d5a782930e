#!/usr/bin/env bash
# The antivirus tests run Debian's clamd with the project's signatures; every other server they need is
# started in-process. Runs before `npm test` (pretest) and in .ci/run: installs ClamAV's daemon when it
# is missing and this machine can (Debian/Ubuntu, as root or with sudo), else says what to install.
set -euo pipefail

if command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ]; then exit 0; fi

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then sudo_cmd="sudo"; else sudo_cmd="none"; fi
fi
if [ "$sudo_cmd" = "none" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "seg: the tests need ClamAV's daemon (clamd): install it (Debian/Ubuntu: sudo apt-get install clamav-daemon) and run them again" >&2
  exit 1
fi

echo "seg: installing clamav-daemon, which the antivirus tests need" >&2
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends clamav-daemon >/dev/null
# The package starts a system clamd (and freshclam) that would look for the official databases: the
# tests run their own clamd, so stop those when a service manager is there.
if command -v systemctl >/dev/null 2>&1; then
  $sudo_cmd systemctl stop clamav-daemon clamav-freshclam 2>/dev/null || true
fi
