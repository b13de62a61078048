# shellcheck shell=sh
# lib/holders.sh — who uses a subhost's storage. A boot and
# overlay-clean-root claim an UPPER (storage_claim): a lock on the
# directory itself, then every subhost's state and every mount namespace
# for an overlay on it.

# proc_desc PID: set PROC_DESC to "pid PID (COMMAND LINE)".
proc_desc() {
	local pd_cmd
	pd_cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)
	[ -n "$pd_cmd" ] || read -r pd_cmd 2>/dev/null <"/proc/$1/comm"
	PROC_DESC="pid $1 (${pd_cmd% })"
}

# storage_claim NAME UPPER WORK: the boot of NAME (or overlay-clean-root)
# takes UPPER for itself, or dies naming what uses it: UPPER's lock (fd
# 4, held by this command until it exits: by then a booted subhost has
# its state), another subhost whose state names UPPER (upper_in_use), or
# an overlay anywhere, in any mount namespace, whose upper or work
# directory is UPPER or WORK (a host process's private one, one kept
# after its subhost stopped). The lock is taken first: a boot that holds
# it sees the state of every boot that held it before.
storage_claim() {
	exec 4<"$2" || die "cannot open UPPER $2 to lock it"
	if ! flock -n 4; then
		upper_lock_holder "$2"
		die "UPPER $2 is in use: $UPPER_HOLDER holds its lock; two subhosts on one UPPER corrupt it"
	fi
	upper_in_use "$1" "$2"
	overlay_users "$2" "$3"
	[ -z "$OVERLAY_USERS" ] ||
		die "UPPER $2 or WORK $3 is in use by an overlay mounted in the mount namespace of $OVERLAY_USERS; two overlays on one UPPER corrupt it"
}

# upper_lock_holder UPPER: set UPPER_HOLDER to the command that holds
# UPPER's lock (our commands hold it on fd 4): "subhost NAME" when it is
# the supervisor of a subhost booted in the foreground, else "pid N
# (COMMAND LINE)"; "another process" when it cannot be told.
upper_lock_holder() {
	local ulh_fd ulh_pid ulh_name
	UPPER_HOLDER='another process'
	for ulh_fd in /proc/[0-9]*/fd/4; do
		# shellcheck disable=SC3013 # -ef: dash, busybox ash and bash alike
		[ "$ulh_fd" -ef "$1" ] 2>/dev/null || continue
		ulh_pid=${ulh_fd#/proc/}
		ulh_pid=${ulh_pid%%/*}
		[ "$ulh_pid" != "$$" ] || continue
		state_names
		for ulh_name in $STATE_NAMES; do
			state_read "$ulh_name" supervisor && [ "$STATE_VALUE" = "$ulh_pid" ] || continue
			UPPER_HOLDER="subhost $ulh_name"
			return 0
		done
		proc_desc "$ulh_pid"
		UPPER_HOLDER=$PROC_DESC
		return 0
	done
}

# mntns_pids: set MNTNS_PIDS to one process of each mount namespace that
# a process is in (lsns), one per line (split with IFS blanks or newline).
mntns_pids() {
	MNTNS_PIDS=$(lsns -t mnt -n -r -o PID 2>/dev/null)
}

# holder_desc PID: set HOLDER_DESC to "pid PID (COMMAND LINE)", followed
# by "of subhost NAME" when PID is the supervisor, pid 1 or mount stage
# of a subhost with state.
holder_desc() {
	local hd_name hd_pid1
	proc_desc "$1"
	HOLDER_DESC=$PROC_DESC
	hd_pid1=${PID1:-}
	state_names
	for hd_name in $STATE_NAMES; do
		if state_read "$hd_name" supervisor && [ "$STATE_VALUE" = "$1" ]; then
			HOLDER_DESC="$PROC_DESC of subhost $hd_name"
			break
		fi
		subhost_pid1 "$hd_name" || continue
		proc_start "$PID1" || continue
		if [ "$PID1" = "$1" ] || [ "$PROC_PPID" = "$1" ]; then
			HOLDER_DESC="$PROC_DESC of subhost $hd_name"
			break
		fi
	done
	PID1=$hd_pid1
}

# overlay_layers: print "PID<tab>UPPERDIR<tab>WORKDIR" for every overlay
# mounted in every mount namespace that a process is in (mntns_pids),
# the paths as the overlay shows them (octal escapes undone).
overlay_layers() {
	local ol_pid
	set --
	mntns_pids
	for ol_pid in $MNTNS_PIDS; do
		set -- "$@" "/proc/$ol_pid/mountinfo"
	done
	[ $# -gt 0 ] || return 0
	awk 'function unesc(s,  out, i, c) {
		out = ""
		while ((i = index(s, "\\")) > 0) {
			c = substr(s, i + 1, 3)
			if (c ~ /^[0-7][0-7][0-7]$/) {
				out = out substr(s, 1, i - 1) sprintf("%c", substr(c, 1, 1) * 64 + substr(c, 2, 1) * 8 + substr(c, 3, 1))
				s = substr(s, i + 4)
			} else {
				out = out substr(s, 1, i)
				s = substr(s, i + 1)
			}
		}
		return out s
	}
	FNR == 1 { pid = FILENAME; sub(/^\/proc\//, "", pid); sub(/\/.*/, "", pid) }
	{
		i = index($0, " - ")
		if (i == 0) next
		split(substr($0, i + 3), f, " ")
		if (f[1] != "overlay") next
		n = split(f[3], o, ",")
		up = ""; wk = ""
		for (j = 1; j <= n; j++) {
			if (o[j] ~ /^upperdir=/) up = unesc(substr(o[j], 10))
			else if (o[j] ~ /^workdir=/) wk = unesc(substr(o[j], 9))
		}
		if (up != "" && !seen[pid "\t" up "\t" wk]++) print pid "\t" up "\t" wk
	}' "$@" 2>/dev/null
}

# overlay_users UPPER [WORK]: set OVERLAY_USERS to one process of each
# mount namespace where an overlay has UPPER or WORK as its upper or work
# directory ("pid N (COMMAND LINE)", "; " between them), or empty. A
# directory is the same by its path (as given or real) or, seen from that
# process's root, by device and inode.
overlay_users() {
	local ou_line ou_pid ou_up ou_wk ou_seen ou_dir ou_real old_ifs
	OVERLAY_USERS='' ou_seen=' '
	old_ifs=$IFS
	IFS='
'
	for ou_line in $(overlay_layers); do
		IFS=$old_ifs
		ou_pid=${ou_line%%"	"*}
		ou_wk=${ou_line##*"	"}
		ou_up=${ou_line#*"	"}
		ou_up=${ou_up%"	"*}
		case "$ou_seen" in *" $ou_pid "*) continue ;; esac
		for ou_dir in "$1" "${2:-}"; do
			[ -n "$ou_dir" ] || continue
			real_dir "$ou_dir" && ou_real=$REAL_DIR || ou_real=$ou_dir
			if same_layer "$ou_pid" "$ou_up" "$ou_dir" "$ou_real" ||
				same_layer "$ou_pid" "$ou_wk" "$ou_dir" "$ou_real"; then
				ou_seen="$ou_seen$ou_pid "
				holder_desc "$ou_pid"
				OVERLAY_USERS="$OVERLAY_USERS${OVERLAY_USERS:+; }$HOLDER_DESC"
				break
			fi
		done
	done
	IFS=$old_ifs
}

# same_layer PID SHOWN DIR REAL: SHOWN, a layer as an overlay in PID's
# mount namespace shows it, is the directory DIR (REAL its real path).
same_layer() {
	[ -n "$2" ] || return 1
	[ "$2" = "$3" ] || [ "$2" = "$4" ] && return 0
	# shellcheck disable=SC3013 # -ef: dash, busybox ash and bash alike
	[ "/proc/$1/root$2" -ef "$3" ] 2>/dev/null
}
