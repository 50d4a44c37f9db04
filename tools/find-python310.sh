#!/usr/bin/env sh
# Print the path of a working Python 3.10 interpreter, or exit 1.
# A pyenv shim named python3.10 exists even when 3.10 is not selected, so each
# candidate is run once to prove that it works.
for candidate in \
    "$(command -v python3.10 2>/dev/null)" \
    "$(PYENV_VERSION=3.10.13 pyenv which python3.10 2>/dev/null)" \
    "$(pyenv prefix 3.10.13 2>/dev/null)/bin/python3.10" \
    "$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1)" \
    /usr/bin/python3.10 /usr/local/bin/python3.10
do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
        echo "$candidate"
        exit 0
    fi
done
exit 1
