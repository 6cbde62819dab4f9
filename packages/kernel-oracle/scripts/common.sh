# common.sh — sourced by the oracle scripts: strict mode, the output path, root, and the safety guard.
#   . "$(dirname "$0")/common.sh"; oracle_start "$@"   → sets OUT (absolute) or exits 2
#   oracle_guard NAME PREFIX                           → P (namespace prefix), W (scratch dir), log, die, and
#                                                        a cleanup on EXIT/INT/TERM that deletes every
#                                                        namespace named ${P}*, warns if one remains, and
#                                                        removes W. A script with more to undo (background
#                                                        processes) defines oracle_on_cleanup; it runs first.
set -u
set -o pipefail
oracle_start() {
  OUT=${1:-}
  if [ -z "$OUT" ]; then echo "usage: $0 OUT.json" >&2; exit 2; fi
  if [ "$(id -u)" != 0 ]; then echo "must run as root (network namespaces)" >&2; exit 2; fi
  case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
}

oracle_guard() {
  ORACLE_NAME=$1
  P=$2
  W=$(mktemp -d "/tmp/$ORACLE_NAME.XXXXXX")
  trap oracle_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

oracle_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if declare -F oracle_on_cleanup >/dev/null; then oracle_on_cleanup || true; fi
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${P}"); do
    ip netns del "$ns" 2>/dev/null || true
  done
  if ip netns list 2>/dev/null | awk '{print $1}' | grep -q "^${P}"; then
    echo "WARNING: namespaces with prefix ${P} remain" >&2
  fi
  rm -rf "$W"
  exit $rc
}

log() { echo "[$ORACLE_NAME] $*" >&2; }
die() { echo "[$ORACLE_NAME] FATAL: $*" >&2; exit 1; }
