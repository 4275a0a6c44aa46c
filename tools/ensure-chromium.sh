#!/usr/bin/env bash
# The report test (tests/test_report.py) opens `snakemake --report` in a real headless
# Chromium driven by Selenium: Debian's chromium and chromium-driver (one version, so the
# driver always matches the browser and nothing is downloaded at run time). Installed here
# when missing and we are root with apt; otherwise the test is skipped and says why.
set -u
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ensure-chromium: chromium/chromedriver missing and not root with apt-get; the report test will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
pkgs="chromium chromium-driver"
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends $pkgs >/dev/null 2>&1; } \
    || echo "ensure-chromium: apt-get could not install $pkgs; the report test will be skipped" >&2
exit 0
