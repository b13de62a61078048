# shellcheck shell=sh
# lib/journal.sh — the undo journal: one "VERB ARGUMENT" line per side
# effect, appended as it is made (before it is made where a kill in
# between could orphan it), replayed newest first by undo_all. It lives in
# the state directory, so a supervisor killed with SIGKILL is cleaned up
# by the next boot or stop. The only code that writes or reads its lines;
# overlay-diskfile records its loop devices and mounts through it too.
#
# Verbs: netns NAME, link IFACE, ifdown IFACE, cgroup DIR, umount DIR,
# loop DEVICE.

# journal_append FILE VERB ARG: record one step in the journal FILE.
journal_append() {
	printf '%s %s\n' "$2" "$3" >>"$1" ||
		die "cannot record undo step '$2 $3' in $1"
}

# journal_forget FILE VERB ARG: drop a step that was undone already.
journal_forget() {
	grep -vxF -- "$2 $3" "$1" >"$1.tmp"
	mv -f -- "$1.tmp" "$1"
}

# undo_push NAME VERB ARG: record a step in subhost NAME's journal.
undo_push() {
	journal_append "$STATE_ROOT/$1/undo" "$2" "$3"
}

# undo_retract NAME VERB ARG: the step recorded before it was made did not
# happen (the command failed): forget it, so that the undo does not remove
# what someone else made under the same name.
undo_retract() {
	journal_forget "$STATE_ROOT/$1/undo" "$2" "$3"
}

# journal_groups NAME: set JOURNAL_GROUPS to the cgroup directories that
# NAME's journal lists, one per line (empty without a journal).
journal_groups() {
	local verb arg
	JOURNAL_GROUPS=
	[ -f "$STATE_ROOT/$1/undo" ] || return 0
	while read -r verb arg; do
		[ "$verb" != cgroup ] || JOURNAL_GROUPS="$JOURNAL_GROUPS$arg
"
	done <"$STATE_ROOT/$1/undo"
}

# kill_subhost NAME: end every process of the subhost: its pid 1 (which
# takes its pid namespace with it) and anything left in its cgroups.
kill_subhost() {
	local group old_ifs
	if subhost_pid1 "$1"; then
		kill -KILL "$PID1" 2>/dev/null
	fi
	journal_groups "$1"
	old_ifs=$IFS
	IFS='
'
	for group in $JOURNAL_GROUPS; do
		IFS=$old_ifs
		cgroup_kill "$group"
	done
	IFS=$old_ifs
}

# stuck_processes NAME: set STUCK to the processes left in NAME's cgroups
# that no signal can end now (state D, uninterruptible: waiting for I/O,
# a frozen file system, a dead NFS server), as "PID (COMMAND LINE)"
# separated by "; "; empty when there are none.
stuck_processes() {
	local group old_ifs pid cmd seen
	STUCK='' seen=' '
	journal_groups "$1"
	[ -n "$JOURNAL_GROUPS" ] || return 0
	old_ifs=$IFS
	IFS='
'
	# the group and the groups below it (the payload, a service's own)
	# shellcheck disable=SC2044,SC2086 # one path per line (IFS is a newline)
	for group in $(find $JOURNAL_GROUPS -name cgroup.procs 2>/dev/null); do
		IFS=$old_ifs
		while read -r pid; do
			case "$seen" in *" $pid "*) continue ;; esac
			seen="$seen$pid "
			proc_start "$pid" && [ "$PROC_STATE" = D ] || continue
			cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
			STUCK="$STUCK${STUCK:+; }$pid (${cmd% })"
		done <"$group"
	done
	IFS=$old_ifs
}

# undo_all NAME: stop what is left of subhost NAME and undo every recorded
# side effect, newest first. Safe to run twice. Fails when a mount or a
# loop device of NAME is still there after it (a process keeps it:
# LEFTOVERS and HOLDERS say what and who, lib/holders.sh); its state is
# then kept, so that a stop can try again and no boot takes its storage.
undo_all() {
	kill_subhost "$1"
	undo_replay "$STATE_ROOT/$1/undo"
	subhost_leftovers "$1"
	[ -z "$LEFTOVERS" ] || return 1
	rm -rf -- "${STATE_ROOT:?}/$1"
}

# undo_all_wait NAME: undo_all NAME, waiting up to UNDO_WAIT seconds (5)
# for what keeps its mounts or loop devices to let go (named on stderr
# once); dies when they are still there, saying what to do.
undo_all_wait() {
	local uaw_tries
	undo_all "$1" && return 0
	warn "$1: waiting up to ${UNDO_WAIT:-5} s: $LEFTOVERS${HOLDERS:+ (held by $HOLDERS)}"
	uaw_tries=0
	while [ "$uaw_tries" -lt "$((${UNDO_WAIT:-5} * 4))" ]; do
		sleep 0.25
		undo_all "$1" && return 0
		uaw_tries=$((uaw_tries + 1))
	done
	[ -n "$HOLDERS" ] ||
		die "$1 is not stopped: $LEFTOVERS; no process was found holding it (a mount namespace file kept open or bind-mounted?); when it is free, run $PROG $1 again"
	die "$1 is not stopped: $LEFTOVERS, held by $HOLDERS; end them (kill PID), then run $PROG $1 again"
}

# undo_replay FILE: undo the steps recorded in FILE, newest first.
undo_replay() {
	local ur_steps ur_line ur_groups verb arg
	[ -f "$1" ] || return 0
	ur_steps=
	while IFS= read -r ur_line; do
		ur_steps="$ur_line
$ur_steps"
	done <"$1"
	# cgroups go last, all in one: every process is gone by then.
	ur_groups=
	while read -r verb arg; do
		case "$verb" in
		'') ;;
		cgroup) ur_groups="$ur_groups$arg
" ;;
		*) undo_one "$verb" "$arg" ;;
		esac
	done <<STEPS
$ur_steps
STEPS
	[ -z "$ur_groups" ] || cgroup_remove_all "$ur_groups"
}

undo_one() {
	local tries autoclear
	case "$1" in
	netns)
		if [ -e "/run/netns/$2" ]; then
			ip netns delete "$2" || warn "cannot delete network namespace $2"
		fi
		;;
	link)
		if ip link show dev "$2" >/dev/null 2>&1; then
			ip link delete dev "$2" || warn "cannot delete interface $2"
		fi
		;;
	cgroup) cgroup_remove_all "$2" ;;
	umount)
		# Never lazily: a mount that a process keeps busy stays where it
		# is, found and named by undo_all (subhost_leftovers).
		if mountpoint -q -- "$2"; then
			umount -- "$2" 2>/dev/null
		fi
		;;
	ifdown)
		if command -v ifdown >/dev/null 2>&1; then
			ifdown --force "$2" >/dev/null 2>&1
		fi
		ifupdown_forget "$2"
		;;
	loop)
		# Detached already, but still in use (autoclear is set): what
		# keeps it is named by undo_all.
		read -r autoclear 2>/dev/null <"/sys/block/${2#/dev/}/loop/autoclear" || autoclear=0
		[ "$autoclear" != 1 ] || return 0
		if losetup "$2" >/dev/null 2>&1; then
			losetup -d "$2" || warn "cannot detach $2"
			# Detaching waits for the last user of the device (a file
			# system that is going away): wait (3 s at most) so that
			# nothing is left when stop returns.
			tries=0
			while losetup "$2" >/dev/null 2>&1 && [ "$tries" -lt 60 ]; do
				sleep 0.05
				tries=$((tries + 1))
			done
		fi
		;;
	*) warn "unknown undo step '$1 $2' ignored" ;;
	esac
}

# Side effects of `!command` values (overlay-diskfile's loop devices and
# mounts) happen while the config is read, before the subhost has a state
# directory: they are recorded in the file named by OVERLAY_BOOT_UNDO, which
# the supervisor adopts into its journal. Whatever is still there when the
# command exits was never adopted, and is undone.
pending_undo_begin() {
	local pending
	[ -d "$STATE_ROOT" ] || mkdir -p "$STATE_ROOT" || die "cannot create $STATE_ROOT"
	# A boot command killed with SIGKILL left its pending file: undo it
	# once its process is gone.
	# One named after this process is as old: its pid was reused.
	for pending in "$STATE_ROOT"/pending.*; do
		[ -f "$pending" ] || continue
		if [ "${pending##*.}" = "$$" ] || ! kill -0 "${pending##*.}" 2>/dev/null; then
			undo_replay "$pending"
			rm -f -- "$pending"
		fi
	done
	# Named after this process; made by run_bang, as only `!` commands
	# record anything in it.
	OVERLAY_BOOT_UNDO=$STATE_ROOT/pending.$$
	export OVERLAY_BOOT_UNDO
	trap 'pending_undo_end; unlock_subhost' EXIT
	trap pending_interrupted INT TERM HUP
}

# pending_interrupted: SIGINT, SIGTERM or SIGHUP to a command that reads
# a config: the process it waits for (BOOT_CHILD: a `!` command, or the
# supervisor of a boot) is told to stop and waited for, so that what it
# made is undone before the pending steps are; BOOT_TMP (a file or a
# directory of ours) is removed. Every long wait of such a command is a
# `wait` or `read` builtin, which a trapped signal ends at once.
pending_interrupted() {
	trap '' INT TERM HUP
	if [ -n "${BOOT_CHILD:-}" ]; then
		kill -TERM "$BOOT_CHILD" 2>/dev/null
		# (no "Terminated" from the shell)
		wait "$BOOT_CHILD" 2>/dev/null
	fi
	[ -z "${BOOT_TMP:-}" ] || rm -rf -- "$BOOT_TMP"
	die "${NAME:+$NAME: }interrupted by a signal; what was made is undone"
}

# journal_pending_create: make the pending file before a `!` command runs
# (when pending_undo_begin named one).
journal_pending_create() {
	if [ -n "${OVERLAY_BOOT_UNDO:-}" ] && [ ! -e "$OVERLAY_BOOT_UNDO" ]; then
		true >"$OVERLAY_BOOT_UNDO" ||
			die "cannot create the pending undo file $OVERLAY_BOOT_UNDO"
	fi
}

pending_undo_end() {
	# UPPER's lock (storage_claim) is an fd open on UPPER, which would
	# keep a disk image busy.
	exec 4<&-
	[ -e "$OVERLAY_BOOT_UNDO" ] || return 0
	undo_replay "$OVERLAY_BOOT_UNDO"
	rm -f -- "$OVERLAY_BOOT_UNDO"
}

# pending_undo_adopt NAME: move the pending steps into NAME's journal.
pending_undo_adopt() {
	[ -s "${OVERLAY_BOOT_UNDO:-}" ] || return 0
	cat -- "$OVERLAY_BOOT_UNDO" >>"$STATE_ROOT/$1/undo" &&
		: >"$OVERLAY_BOOT_UNDO" || die "cannot adopt $OVERLAY_BOOT_UNDO"
}
