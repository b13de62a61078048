# shellcheck shell=sh
# lib/state.sh — the runtime state of subhosts: /run/overlay-boot/NAME/
# (supervisor and pid 1 with their start times, the config path, what
# stop needs) and the per-name locks beside it. The only code that spells
# /run/overlay-boot; everything else goes through STATE_ROOT and these
# functions. Also finding a subhost from a NAME or CONF argument.

STATE_ROOT=/run/overlay-boot
# Inside a subhost, the supervisor's own files live here (on /run's tmpfs).
# shellcheck disable=SC2034 # used by overlay-boot and lib/mounts.sh
SUBHOST_RUNDIR=/run/overlay-boot

# state_read NAME FILE: set STATE_VALUE to one recorded value (no subshell).
state_read() {
	read -r STATE_VALUE 2>/dev/null <"$STATE_ROOT/$1/$2"
}

state_put() {
	printf '%s\n' "$3" >"$STATE_ROOT/$1/$2" ||
		die "cannot write state $STATE_ROOT/$1/$2"
}

# lock_subhost NAME: take the subhost's lock on fd 9, or fail (returns 1)
# when another process holds it (fd 9 is then open on its file, for a
# wait). The lock file lives only while the lock is needed: the last
# holder removes it (unlock_subhost), so a lock taken on a file that was
# removed meanwhile is no lock: it is taken again on the new file.
lock_subhost() {
	LOCKED_NAME=
	[ -d "$STATE_ROOT" ] || mkdir -p "$STATE_ROOT" || die "cannot create $STATE_ROOT"
	while :; do
		exec 9>>"$STATE_ROOT/$1.lock" || die "cannot open lock $STATE_ROOT/$1.lock"
		flock -n 9 || return 1
		if lock_is_ours "$1"; then
			LOCKED_NAME=$1
			return 0
		fi
	done
}

# lock_is_ours NAME: the file that fd 9 has locked is NAME's lock file.
lock_is_ours() {
	# -ef: in dash, busybox ash and bash alike, and no process
	# shellcheck disable=SC3013
	[ /dev/fd/9 -ef "$STATE_ROOT/$1.lock" ]
}

# unlock_subhost: remove the lock file of the subhost locked on fd 9
# (LOCKED_NAME) when nothing of it is left (no state directory), while
# the lock is still held: no one else can have that file locked, nor
# another at its path. The lock goes when fd 9 is closed.
unlock_subhost() {
	[ -n "${LOCKED_NAME:-}" ] || return 0
	[ ! -d "$STATE_ROOT/$LOCKED_NAME" ] || return 0
	! lock_is_ours "$LOCKED_NAME" || rm -f -- "$STATE_ROOT/$LOCKED_NAME.lock"
	LOCKED_NAME=
}

# lock_holder NAME: set LOCK_HOLDER to "pid N (COMMAND LINE)" of the
# process that holds NAME's lock, as far as it can be told (our commands
# hold it on fd 9; a waiting overlay-stop has it open and is not counted),
# or empty. For messages only: it reads every process's fd 9.
lock_holder() {
	local lh_fd lh_pid lh_cmd
	LOCK_HOLDER=
	for lh_fd in /proc/[0-9]*/fd/9; do
		# shellcheck disable=SC3013 # -ef: dash, busybox ash and bash alike
		[ "$lh_fd" -ef "$STATE_ROOT/$1.lock" ] 2>/dev/null || continue
		lh_pid=${lh_fd#/proc/}
		lh_pid=${lh_pid%%/*}
		[ "$lh_pid" != "$$" ] || continue
		lh_cmd=$(tr '\0' ' ' <"/proc/$lh_pid/cmdline" 2>/dev/null) || continue
		case "$lh_cmd" in
		*overlay-stop*) continue ;;
		esac
		# shellcheck disable=SC2034 # returned to the caller
		LOCK_HOLDER="pid $lh_pid (${lh_cmd% })"
		return 0
	done
}

# is_running NAME: a supervisor holds the lock of NAME. (The file is
# opened, never created: flock(1) with a path would create it.)
is_running() {
	[ -e "$STATE_ROOT/$1.lock" ] || return 1
	{ flock -n 8; } 2>/dev/null 8<"$STATE_ROOT/$1.lock"
	[ "$?" = 1 ]
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

# running_pid1 NAME: set PID1 to the verified pid 1 of a running subhost
# (also while it is stopping, until its pid 1 is gone), or die.
running_pid1() {
	subhost_status "$1"
	PID1=$SUBHOST_PID1
	case "$SUBHOST_STATE" in
	running | stopping) [ -z "$PID1" ] || return 0 ;;
	esac
	case "$SUBHOST_STATE" in
	starting | stopping) die "$1 is starting or stopping (no pid 1 yet)" ;;
	esac
	die "$1 is not running"
}

# subhost_status NAME: one answer, for every command, to "what is NAME
# doing": SUBHOST_STATE is
#   running   its supervisor is alive and its pid 1 is up (also when
#             its supervisor was killed and pid 1 lives on: SUBHOST_ORPHAN
#             is then 1; it is still a subhost, entered, stopped and
#             cleaned up as any other)
#   starting  its supervisor is alive, pid 1 is not up yet
#   stopping  a stop is under way (an overlay-stop, or the supervisor
#             told by a signal, that is still alive)
#   stale     no supervisor and no pid 1, but its state is left
#   stopped   nothing of it is known
# SUBHOST_SUPERVISOR and SUBHOST_PID1 are their verified host pids, or
# empty. No process is started while the supervisor is alive.
subhost_status() {
	local sup
	SUBHOST_STATE=stopped SUBHOST_SUPERVISOR='' SUBHOST_PID1='' SUBHOST_ORPHAN=''
	if state_read "$1" supervisor; then
		sup=$STATE_VALUE
		if state_read "$1" supervisor.start && pid_matches "$sup" "$STATE_VALUE"; then
			SUBHOST_SUPERVISOR=$sup
		fi
	fi
	! subhost_pid1 "$1" || SUBHOST_PID1=$PID1
	if [ -n "$SUBHOST_SUPERVISOR" ] || is_running "$1"; then
		if state_stopping "$1"; then
			SUBHOST_STATE=stopping
		elif [ -n "$SUBHOST_PID1" ]; then
			SUBHOST_STATE=running
		elif [ -e "$STATE_ROOT/$1/pid1.start" ]; then
			# pid 1 was up and is gone: the supervisor is undoing the boot.
			SUBHOST_STATE=stopping
		else
			SUBHOST_STATE=starting
		fi
	elif [ -n "$SUBHOST_PID1" ]; then
		# shellcheck disable=SC2034 # returned to the caller
		SUBHOST_STATE=running SUBHOST_ORPHAN=1
	elif [ -d "$STATE_ROOT/$1" ]; then
		SUBHOST_STATE=stale
	fi
}

# state_mark_stopping NAME: record that this process is stopping NAME.
state_mark_stopping() {
	[ -d "$STATE_ROOT/$1" ] || return 0
	proc_start $$ || return 0
	printf '%s %s\n' "$$" "$PROC_START" >"$STATE_ROOT/$1/stopping"
}

# state_claim_stopping NAME: record, as state_mark_stopping, that this
# process is stopping NAME, unless another live process has (fails then).
# The file is made with O_EXCL (noclobber): of two stops, one wins.
state_claim_stopping() {
	local tries csp_start
	proc_start $$ || return 1
	csp_start=$PROC_START
	tries=0
	while [ "$tries" -lt 2 ]; do
		if (set -C && printf '%s %s\n' "$$" "$csp_start" >"$STATE_ROOT/$1/stopping") 2>/dev/null; then
			return 0
		fi
		! state_stopping "$1" || return 1
		# left by a stop that was killed: ours now
		rm -f -- "$STATE_ROOT/$1/stopping"
		tries=$((tries + 1))
	done
	return 1
}

# state_stopping NAME: a process that is stopping NAME is still alive (a
# stop that was killed half-way counts for nothing).
state_stopping() {
	local pid start
	read -r pid start 2>/dev/null <"$STATE_ROOT/$1/stopping" || return 1
	pid_matches "$pid" "$start"
}

# state_names: set STATE_NAMES to the names that have state, one per line;
# a directory whose name is not a valid subhost name is never acted on.
state_names() {
	local dir name
	STATE_NAMES=
	for dir in "$STATE_ROOT"/*/; do
		[ -d "$dir" ] || continue
		name=${dir%/}
		name=${name##*/}
		if valid_name "$name"; then
			STATE_NAMES="$STATE_NAMES$name
"
		else
			warn "$STATE_ROOT/$name: not a subhost name; ignored"
		fi
	done
}

# state_name_of CONF: set STATE_NAME to the subhost that has state from
# the config file CONF (absolute, resolved); fails when none has.
state_name_of() {
	local name
	STATE_NAME=
	state_names
	for name in $STATE_NAMES; do
		state_read "$name" conf && [ "$STATE_VALUE" = "$1" ] || continue
		# shellcheck disable=SC2034 # returned to the caller
		STATE_NAME=$name
		return 0
	done
	return 1
}

# find_subhost NAME|CONF: set NAME (and CONF when known) from an argument
# that is either a subhost name or a config file path; the name is
# validated either way. A config file may have any name: an argument with
# a / or a .conf suffix is a file; another is a name when it is a valid one
# that has state or is not a file here, else a file.
find_subhost() {
	case "$1" in
	*/* | *.conf) ;;
	*)
		if valid_name "$1" && { [ -d "$STATE_ROOT/$1" ] || [ ! -f "$1" ]; }; then
			NAME=$1
			# shellcheck disable=SC2034 # CONF is returned to the caller
			state_read "$NAME" conf && CONF=$STATE_VALUE || CONF=
			return 0
		fi
		[ -e "$1" ] || die "$1: no such subhost or config file ($NAME_PROBLEM)"
		;;
	esac
	[ -f "$1" ] || die "$1: no such config file"
	config_read_name "$1"
	config_owns_name
}

# config_owns_name: a command given a config file acts on the subhost
# started from that file (CONF, NAME from config_read_name): it refuses a
# NAME that runs from another config, and says which name the subhost
# from this one runs as when NAME was edited since it booted.
config_owns_name() {
	local con_name
	if state_read "$NAME" conf; then
		[ -z "$STATE_VALUE" ] || [ "$STATE_VALUE" = "$CONF" ] ||
			die "$CONF: $NAME is the subhost started from another config, $STATE_VALUE; not this one's"
		return 0
	fi
	state_name_of "$CONF" || return 0
	con_name=$STATE_NAME
	die "$CONF: the subhost started from it runs as $con_name (its NAME is $NAME now); use the name: $PROG $con_name"
}

# upper_in_use NAME UPPER: die when another subhost that is not stopped
# (running, starting, stopping, or stale: its pid 1 may live on) has
# UPPER, the same directory by any path, as its upper layer: two overlays
# on one upper corrupt it (the kernel: "upperdir is in-use ... undefined
# behavior"). Found by the state of every subhost, not by NAME alone.
upper_in_use() {
	local uiu_name uiu_real
	state_names
	[ -n "$STATE_NAMES" ] || return 0
	# the same directory by another path (symbolic links): real paths,
	# without a process
	real_dir "$2" || return 0
	uiu_real=$REAL_DIR
	for uiu_name in $STATE_NAMES; do
		[ "$uiu_name" != "$1" ] || continue
		state_read "$uiu_name" upper && [ -n "$STATE_VALUE" ] || continue
		if [ "$STATE_VALUE" != "$2" ]; then
			real_dir "$STATE_VALUE" && [ "$REAL_DIR" = "$uiu_real" ] || continue
		fi
		subhost_status "$uiu_name"
		[ "$SUBHOST_STATE" != stopped ] || continue
		die "UPPER $2 is in use by subhost $uiu_name ($SUBHOST_STATE); two subhosts on one UPPER corrupt it"
	done
}

# list_running: print the names of the running subhosts, one per line
# (what overlay-go and overlay-share do without a name, as upstream's
# "Select subhost:"); says so on stderr when none is.
list_running() {
	local lr_name lr_count
	lr_count=0
	state_names
	for lr_name in $STATE_NAMES; do
		subhost_status "$lr_name"
		[ "$SUBHOST_STATE" = running ] || continue
		printf '%s\n' "$lr_name"
		lr_count=$((lr_count + 1))
	done
	[ "$lr_count" -gt 0 ] || echo "$PROG: no subhost is running" >&2
}
