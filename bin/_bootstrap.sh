# Sourced by bin/test and bin/aio: make .venv, install the package and the system tools.
# Re-running is cheap: pip runs again only when pyproject.toml changed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}

need_apt=()
for tool in rsync:rsync memcached:memcached rclone:rclone mkfs.xfs:xfsprogs strace:strace logrotate:logrotate; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing ${need_apt[*]} from Debian" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1 ||
            echo "bootstrap: could not install ${need_apt[*]}; tests that need them will skip" >&2
    else
        echo "bootstrap: ${need_apt[*]} missing (not root): tests that need them will skip" >&2
    fi
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
    echo "bootstrap: creating .venv" >&2
    rm -rf .venv
    "$PY" -m venv .venv
fi
stamp=.venv/.swiftlite-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "bootstrap: installing swiftlite and its test tools into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -e '.[test]'
    echo "$want" >"$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"
