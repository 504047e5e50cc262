#!/usr/bin/env bash
# Prepares this machine for the portal; run.sh, test.sh and .ci/run call it first.
#
#   bash scripts/setup.sh          (or: source scripts/setup.sh — it runs in a subshell either way)
#
# 1. .venv/ with python3 (3.11 or newer; PYTHON=/path/to/python picks another interpreter).
# 2. pip upgraded and the project installed with its dev extras, only when pyproject.toml changed
#    since the last install (its hash is kept in .venv/.kjzx-pyproject.sha256).
# 3. As root with apt-get: the Debian packages that PDF certificates (WeasyPrint, CJK fonts), lesson
#    videos (ffmpeg: ffprobe measures uploads, the demo generates its clips) and the browser tests
#    (chromium, pdftotext) and the HTTP bench (wrk, bench/http_bench.py) need, when missing. Not root: a
#    warning, and we go on.
#    KJZX_SKIP_APT=1 skips this step.
#
# Safe to run again: a second run with nothing changed takes about a second and touches nothing.

kjzx_setup() (
  set -euo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."

  local python="${PYTHON:-python3}"
  local venv=".venv"
  local stamp="$venv/.kjzx-pyproject.sha256"
  local debs=(chromium ffmpeg fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils wrk)

  say() { printf 'setup: %s\n' "$*"; }
  die() { printf '\nsetup: ERROR: %s\n\n' "$*" >&2; exit 1; }

  # --- 1. Python and the virtualenv -----------------------------------------------------------
  command -v "$python" >/dev/null 2>&1 \
    || die "'$python' not found. Install Python 3.11 or newer (or set PYTHON=/path/to/python3.11)."
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is required; '$python' is $("$python" -V 2>&1). Set PYTHON=/path/to/python3.11."

  # A .venv copied from another machine, or made by a Python since removed, no longer runs. It is
  # not ours to delete (someone may be using it): say so and stop.
  if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    die "$PWD/$venv does not run, or its Python is older than 3.11. Remove it (rm -rf $venv) and run again."
  elif [ ! -e "$venv" ]; then
    say "creating $venv with $("$python" -V 2>&1)"
    "$python" -m venv "$venv" \
      || die "'$python -m venv' failed. On Debian/Ubuntu: apt-get install python3-venv."
  fi

  # --- 2. Dependencies, when pyproject.toml changed -------------------------------------------
  local want have=""
  want=$("$venv/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')
  [ -f "$stamp" ] && have=$(cat "$stamp")
  if [ "$want" != "$have" ]; then
    say "installing the project and its dev extras (a few minutes on a fresh machine)"
    local pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
    local quiet=(-q --progress-bar off)
    "${pip[@]}" install "${quiet[@]}" --upgrade pip || die "could not upgrade pip"
    # The build leaves kjzx.egg-info/ (and build/ when not editable) in the tree; remove only what it made.
    local leftovers=()
    [ -e kjzx.egg-info ] || leftovers+=(kjzx.egg-info)
    [ -e build ] || leftovers+=(build)
    if ! "${pip[@]}" install "${quiet[@]}" -e '.[dev]'; then
      say "editable install failed; trying a regular install"
      "${pip[@]}" install "${quiet[@]}" '.[dev]' || die "pip could not install the project (see above)"
    fi
    [ ${#leftovers[@]} -eq 0 ] || rm -rf "${leftovers[@]}"
    echo "$want" >"$stamp"
    say "dependencies installed"
  fi

  # --- 3. Debian packages ----------------------------------------------------------------------
  [ "${KJZX_SKIP_APT:-0}" = "1" ] && return 0
  command -v dpkg-query >/dev/null 2>&1 || {
    say "WARNING: not a Debian system; make sure Chromium, ffmpeg, Noto CJK fonts, Pango, HarfBuzz-subset, poppler-utils and wrk are installed"
    return 0
  }
  local missing=() pkg
  for pkg in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null || die "apt-get update failed (KJZX_SKIP_APT=1 skips this step)"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null \
      || die "apt-get install ${missing[*]} failed (KJZX_SKIP_APT=1 skips this step)"
    say "Debian packages installed"
  else
    cat >&2 <<EOF

setup: WARNING: missing Debian packages: ${missing[*]}
setup:   PDF certificates (WeasyPrint, Chinese fonts) and the browser tests need them. As root:
setup:   apt-get update && apt-get install -y ${missing[*]}
setup: Carrying on without them.

EOF
  fi
)

kjzx_setup
