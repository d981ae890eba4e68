#!/bin/sh
# Install octohost from this folder into a virtual environment of its own, with the system Python.
#
# Debian 12 and Raspberry Pi OS (PEP 668) refuse `pip install` into the system Python, so octohost
# gets a venv (default ~/.local/share/octohost/venv) and a link to its command in ~/.local/bin.
# The build happens outside this folder (see setup.py), so a read-only clone works. Safe to run
# again: it upgrades the same venv in place.
#
#   ./install.sh [--venv DIR] [--bin DIR]      PYTHON=python3.11 ./install.sh   (another interpreter)
set -eu

venv="${OCTOHOST_VENV:-$HOME/.local/share/octohost/venv}"
bindir="$HOME/.local/bin"
python="${PYTHON:-python3}"

die() { echo "Error: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --venv) [ $# -ge 2 ] || die "--venv needs a folder"; venv="$2"; shift 2 ;;
        --bin) [ $# -ge 2 ] || die "--bin needs a folder"; bindir="$2"; shift 2 ;;
        -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see ./install.sh --help)" ;;
    esac
done

src="$(cd "$(dirname "$0")" && pwd)"
[ -f "$src/pyproject.toml" ] || die "no pyproject.toml in $src: run install.sh from an octohost source folder"

command -v "$python" >/dev/null 2>&1 || die "$python not found: install Python 3.10 or newer"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "octohost needs Python 3.10 or newer; $python is $("$python" -V 2>&1)"

if [ ! -x "$venv/bin/python" ]; then
    echo "Creating the virtual environment $venv"
    "$python" -m venv "$venv" \
        || die "could not create $venv (on Debian / Raspberry Pi OS: sudo apt install python3-venv)"
fi

echo "Installing octohost from $src (this fetches its dependencies)"
"$venv/bin/python" -m pip install --quiet --upgrade "$src" || die "pip could not install octohost into $venv"

mkdir -p "$bindir"
ln -sf "$venv/bin/octohost" "$bindir/octohost"
echo "Installed $("$venv/bin/octohost" --version) as $bindir/octohost"
case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "($bindir is not on your PATH yet: log in again, or run $bindir/octohost)" ;;
esac
