# shellcheck shell=sh
# lib/msg.sh — messages and command plumbing: the program's name and
# version, die/warn/log/usage_error, the root check, finding the helpers
# shipped with overlay-boot, and path helpers that need no process.
#
# Conventions of the whole library: every function either succeeds or
# calls die with one line that says what, where and why; nothing uses
# set -e, callers check. Every function's own variables are `local`. A
# function that returns a value through a CAPITAL global (REAL_DIR,
# ABS_PATH, PROC_START...) does so because it is called on the boot path,
# where a $(...) subshell per call was measured as most of the cost
# (bench/NOTES.md); its comment names the global.

OVERLAY_BOOT_VERSION=0.1
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# cd of a relative path must never search elsewhere (real_dir).
unset CDPATH

PROG=${0##*/}

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

warn() {
	printf '%s: warning: %s\n' "$PROG" "$*" >&2
}

# log MESSAGE: a timestamped line on stderr (the log file, in a supervisor).
# The first line has the date; the others, in this process and in the
# processes it starts (LOG_T0 is exported), the seconds since that line,
# from /proc/uptime: a date process per line is most of a supervisor's
# cost on a busy host.
log() {
	local log_up log_cs
	read -r log_up _ </proc/uptime
	log_up=${log_up%.*}${log_up#*.}
	if [ -z "${LOG_T0:-}" ]; then
		LOG_T0=$log_up
		printf '%s %s[%s]: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$PROG" "$$" "$*" >&2
	else
		log_cs=$((log_up - LOG_T0))
		printf '%15s%d.%02ds %s[%s]: %s\n' + $((log_cs / 100)) $((log_cs % 100)) \
			"$PROG" "$$" "$*" >&2
	fi
}

usage_error() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	printf "Try '%s --help'.\n" "$PROG" >&2
	exit 2
}

print_version() {
	printf '%s (overlay-boot) %s\n' "$PROG" "$OVERLAY_BOOT_VERSION"
	exit 0
}

require_root() {
	local rr_key rr_uid
	# The real uid, from /proc: no process for it.
	while read -r rr_key rr_uid _; do
		[ "$rr_key" = Uid: ] && break
	done </proc/self/status
	[ "$rr_uid" = 0 ] || die "must be run as root (uid $rr_uid is not 0)"
}

# helper_path NAME: set HELPER to that path, or die (no subshell).
helper_path() {
	local dir
	for dir in "$LIBDIR" "$LIBDIR/src"; do
		if [ -x "$dir/$1" ] && [ ! -d "$dir/$1" ]; then
			# shellcheck disable=SC2034 # returned to the caller
			HELPER=$dir/$1
			return 0
		fi
	done
	die "helper $1 not found in $LIBDIR (run make, or reinstall)"
}

# abs_path PATH DIR: set ABS_PATH to PATH made absolute relative to DIR,
# without touching the file system (the path may not exist yet).
abs_path() {
	# shellcheck disable=SC2034 # returned to the caller
	case "$1" in
	/*) ABS_PATH=$1 ;;
	*) ABS_PATH=${2%/}/$1 ;;
	esac
}

# real_dir DIR: set REAL_DIR to DIR with every symlink resolved, by
# entering it in this shell and coming back (no subshell).
real_dir() {
	local rd_back="$PWD"
	cd -P -- "$1" 2>/dev/null || return 1
	# shellcheck disable=SC2034 # returned to the caller
	REAL_DIR=$PWD
	cd -- "$rd_back" 2>/dev/null || cd /
}

is_uint() {
	case "$1" in
	'' | *[!0-9]*) return 1 ;;
	esac
	return 0
}

# is_size VALUE: a byte count with an optional K, M, G or T suffix.
is_size() {
	is_uint "${1%[kKmMgGtT]}"
}
