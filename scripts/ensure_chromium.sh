#!/bin/sh
# Make Debian's chromium available for the browser tests (tests/http/test_survey_browser.py).
# Idempotent; never fails the build: without chromium the browser test skips with a reason.
set -u
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: installing Debian's chromium package" >&2
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; then
        exit 0
    fi
    echo "ensure_chromium: apt-get could not install chromium; the browser test will skip" >&2
    exit 0
fi
echo "ensure_chromium: /usr/bin/chromium is missing; install it with" >&2
echo "    sudo apt-get install -y chromium" >&2
echo "or the survey browser test will be skipped." >&2
exit 0
