# shellcheck shell=sh
# lib/state.sh — the runtime state of subhosts: /run/overlay-boot/NAME/
# (supervisor and pid 1 with their start times, the config path, what
# stop needs) and the per-name locks beside it. The only code that spells
# /run/overlay-boot; everything else goes through STATE_ROOT and these
# functions. Also finding a subhost from a NAME or CONF argument.

STATE_ROOT=/run/overlay-boot
# Inside a subhost, the supervisor's own files live here (on /run's tmpfs).
SUBHOST_RUNDIR=/run/overlay-boot
# The file descriptor on which pid 1 announces readiness.
READY_FD=7

# state_get NAME FILE: print one recorded value of subhost NAME.
state_get() {
	state_read "$1" "$2" || return 1
	printf '%s' "$STATE_VALUE"
}

# state_read NAME FILE: set STATE_VALUE to one recorded value (no subshell).
state_read() {
	read -r STATE_VALUE 2>/dev/null <"$STATE_ROOT/$1/$2"
}

state_put() {
	printf '%s\n' "$3" >"$STATE_ROOT/$1/$2" ||
		die "cannot write state $STATE_ROOT/$1/$2"
}

# lock_subhost NAME: take the subhost's lock on fd 9, or fail (returns 1)
# when another process holds it.
lock_subhost() {
	[ -d "$STATE_ROOT" ] || mkdir -p "$STATE_ROOT" || die "cannot create $STATE_ROOT"
	exec 9>>"$STATE_ROOT/$1.lock" || die "cannot open lock $STATE_ROOT/$1.lock"
	flock -n 9
}

unlock_subhost() {
	exec 9>&-
}

# is_running NAME: a supervisor holds the lock of NAME.
is_running() {
	[ -e "$STATE_ROOT/$1.lock" ] || return 1
	! flock -n "$STATE_ROOT/$1.lock" true
}

# subhost_pid1 NAME: set PID1 to the host pid of the subhost's pid 1,
# verified against its recorded start time; fails (PID1 empty) when it is
# gone or was never recorded.
subhost_pid1() {
	local sp_pid
	PID1=
	state_read "$1" pid1 || return 1
	sp_pid=$STATE_VALUE
	state_read "$1" pid1.start || return 1
	pid_matches "$sp_pid" "$STATE_VALUE" || return 1
	PID1=$sp_pid
}

# running_pid1 NAME: set PID1 to the verified pid 1 of a running subhost,
# or die.
running_pid1() {
	local rp_sup
	# A live pid 1 and a live supervisor need no flock process.
	if subhost_pid1 "$1" && state_read "$1" supervisor && rp_sup=$STATE_VALUE &&
		state_read "$1" supervisor.start && pid_matches "$rp_sup" "$STATE_VALUE"; then
		return 0
	fi
	is_running "$1" || die "$1 is not running"
	subhost_pid1 "$1" || die "$1 is starting or stopping (no pid 1 yet)"
}

# find_subhost NAME|CONF: set NAME (and CONF when known) from an argument
# that is either a subhost name or a config file path.
find_subhost() {
	case "$1" in
	*/* | *.conf)
		[ -f "$1" ] || die "$1: no such config file"
		CONFIG_NAME_ONLY=1
		read_config "$1"
		CONFIG_NAME_ONLY=
		;;
	*)
		check_name "$1" ""
		NAME=$1
		CONF=$(state_get "$NAME" conf) || CONF=
		;;
	esac
}
