#!/usr/bin/env bash
# pip install "$@" into .venv, saying what happens instead of pip's page of "Collecting" lines:
# the packages being built (llama.cpp compiles for minutes the first time), then how many were
# installed. The whole of pip's output goes to .venv/pip-install.log; on failure its end is shown.
set -uo pipefail
log=.venv/pip-install.log
started=$(date +%s)
.venv/bin/python -m pip install --progress-bar off "$@" >"$log" 2>&1 &
pip=$!
shown=""
while kill -0 "$pip" 2>/dev/null; do
  building=$(grep -o "Building wheel for [^ ]*" "$log" | sort -u | tr '\n' ' ')
  if [ -n "$building" ] && [ "$building" != "$shown" ]; then
    echo "   ${building}(started; llama-cpp-python takes minutes the first time)"
    shown=$building
  fi
  sleep 2
done
if ! wait "$pip"; then
  echo "pip install $* failed; the end of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
installed=$(grep -o "^Successfully installed .*" "$log" | wc -w)
echo "   done in $(( $(date +%s) - started )) s ($(( installed > 2 ? installed - 2 : 0 )) package(s) installed)"
