# common.sh — sourced by the oracle scripts: strict mode, the output path, root.
#   . "$(dirname "$0")/common.sh"; oracle_start "$@"   → sets OUT (absolute) or exits 2
set -u
set -o pipefail
oracle_start() {
  OUT=${1:-}
  if [ -z "$OUT" ]; then echo "usage: $0 OUT.json" >&2; exit 2; fi
  if [ "$(id -u)" != 0 ]; then echo "must run as root (network namespaces)" >&2; exit 2; fi
  case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
}
