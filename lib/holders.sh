# shellcheck shell=sh
# lib/holders.sh — who uses a subhost's storage. A boot and
# overlay-clean-root claim an UPPER (storage_claim): a lock on the
# directory itself, then every subhost's state and every mount namespace
# for an overlay on it. After a stop, what is left of a subhost's mounts
# and loop devices is found, with the processes that keep it
# (subhost_leftovers): their cwd, root, open files or mount namespace.

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
	work_in_use "$1" "$2" "$3"
	overlay_users "$2" "$3"
	[ -z "$OVERLAY_USERS" ] ||
		die "UPPER $2 or WORK $3 is in use by an overlay mounted in the mount namespace of $OVERLAY_USERS; two overlays on one UPPER corrupt it"
}

# work_in_use NAME UPPER WORK: die when another subhost that is not
# stopped has WORK as its upper or work directory, or UPPER as its work
# directory (its state records both; the same directory by any path).
# The overlays of a subhost with a user namespace show no path that the
# mount namespace scan could match.
work_in_use() {
	local wiu_name wiu_mine wiu_theirs wiu_key wiu_what
	state_names
	for wiu_name in $STATE_NAMES; do
		[ "$wiu_name" != "$1" ] || continue
		for wiu_key in upper work; do
			state_read "$wiu_name" "$wiu_key" && [ -n "$STATE_VALUE" ] || continue
			real_dir "$STATE_VALUE" || continue
			wiu_theirs=$REAL_DIR
			for wiu_what in WORK UPPER; do
				[ "$wiu_what:$wiu_key" != UPPER:upper ] || continue
				if [ "$wiu_what" = WORK ]; then
					real_dir "$3" || continue
				else
					real_dir "$2" || continue
				fi
				wiu_mine=$REAL_DIR
				[ "$wiu_mine" = "$wiu_theirs" ] || continue
				subhost_status "$wiu_name"
				[ "$SUBHOST_STATE" != stopped ] || continue
				die "$wiu_what $wiu_mine is in use by subhost $wiu_name ($SUBHOST_STATE) as its $wiu_key directory; two overlays on one directory corrupt it"
			done
		done
	done
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

# ns_mount_holders " DEV... ": set NS_HOLDERS to one process of each mount
# namespace but ours where a file system of device DEV (major:minor) is
# mounted (a copy of the host's mount table that another subhost's mount
# stage made while it was mounted, say), "; " between them.
ns_mount_holders() {
	local nmh_pid
	NS_HOLDERS=''
	mntns_pids
	for nmh_pid in $MNTNS_PIDS; do
		# shellcheck disable=SC3013 # -ef: dash, busybox ash and bash alike
		[ ! "/proc/$nmh_pid/ns/mnt" -ef "/proc/$$/ns/mnt" ] || continue
		awk -v devs="$1" 'index(devs, " " $3 " ") { found = 1; exit } END { exit !found }' \
			"/proc/$nmh_pid/mountinfo" 2>/dev/null || continue
		holder_desc "$nmh_pid"
		NS_HOLDERS="$NS_HOLDERS${NS_HOLDERS:+; }$HOLDER_DESC: its mount namespace"
	done
}

# holder_desc PID: set HOLDER_DESC to "pid PID (COMMAND LINE)", or "pid
# PID (COMMAND) of subhost NAME" when PID is the supervisor, pid 1 or
# mount stage of a subhost with state.
holder_desc() {
	local hd_name hd_pid1 hd_comm
	proc_desc "$1"
	HOLDER_DESC=$PROC_DESC
	hd_pid1=${PID1:-}
	state_names
	for hd_name in $STATE_NAMES; do
		if ! state_read "$hd_name" supervisor || [ "$STATE_VALUE" != "$1" ]; then
			subhost_pid1 "$hd_name" && proc_start "$PID1" || continue
			[ "$PID1" = "$1" ] || [ "$PROC_PPID" = "$1" ] || continue
		fi
		read -r hd_comm 2>/dev/null <"/proc/$1/comm" || hd_comm='?'
		HOLDER_DESC="pid $1 ($hd_comm) of subhost $hd_name"
		break
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

# root_dev_record NAME PID1: record the device of the overlay that is the
# root of NAME's pid 1, and the mount namespaces that have it (pid 1's
# and its parent's, overlay-pivot's), to find what keeps it once the
# subhost is gone.
root_dev_record() {
	local rdr_dev rdr_ns
	rdr_dev=$(stat -L -c '%Hd:%Ld' -- "/proc/$2/root/" 2>/dev/null) || return 0
	proc_start "$2" || return 0
	rdr_ns=$(stat -L -c '%i' -- "/proc/$2/ns/mnt" "/proc/$PROC_PPID/ns/mnt" 2>/dev/null | tr '\n' ' ')
	state_put "$1" root.dev "$rdr_dev"
	state_put "$1" root.mntns "$rdr_ns"
}

# subhost_leftovers NAME: after NAME's undo journal was replayed, set
# LEFTOVERS to what is still there of its mounts and loop devices (a
# mount of a disk image the journal lists, its loop device, its root
# overlay while a process keeps it) and HOLDERS to the processes that keep them, with
# where (cwd, root, an open file, a mount namespace); "; " between
# entries, both empty when nothing is left.
subhost_leftovers() {
	local sl_verb sl_arg sl_devs sl_dev sl_back sl_root
	LEFTOVERS='' HOLDERS='' sl_devs=' '
	if [ -f "$STATE_ROOT/$1/undo" ]; then
		while read -r sl_verb sl_arg; do
			case "$sl_verb" in
			umount)
				mountpoint -q -- "$sl_arg" 2>/dev/null || continue
				LEFTOVERS="$LEFTOVERS${LEFTOVERS:+; }$sl_arg is still mounted"
				sl_dev=$(mountpoint -d -- "$sl_arg" 2>/dev/null) && sl_devs="$sl_devs$sl_dev "
				;;
			loop)
				read -r sl_back 2>/dev/null <"/sys/block/${sl_arg#/dev/}/loop/backing_file" || continue
				LEFTOVERS="$LEFTOVERS${LEFTOVERS:+; }loop device $sl_arg is still attached to $sl_back"
				read -r sl_dev 2>/dev/null <"/sys/block/${sl_arg#/dev/}/dev" && sl_devs="$sl_devs$sl_dev "
				;;
			esac
		done <"$STATE_ROOT/$1/undo"
	fi
	state_read "$1" root.dev && sl_root=$STATE_VALUE || sl_root=
	[ "$sl_devs" != ' ' ] || [ -n "$sl_root" ] || return 0
	state_read "$1" root.mntns || STATE_VALUE=
	file_holders "$sl_devs" "$sl_root" " $STATE_VALUE "
	HOLDERS=$FILE_HOLDERS
	if [ "$sl_devs" != ' ' ]; then
		ns_mount_holders "$sl_devs"
		[ -z "$NS_HOLDERS" ] || HOLDERS="$HOLDERS${HOLDERS:+; }$NS_HOLDERS"
	fi
	if [ -z "$LEFTOVERS" ] && [ -n "$HOLDERS" ]; then
		state_read "$1" upper || STATE_VALUE=
		LEFTOVERS="its root overlay${STATE_VALUE:+ on $STATE_VALUE} is still there"
	fi
}

# file_holders " DEV... " ROOTDEV " NS... ": set FILE_HOLDERS to the
# processes whose cwd, root or an open file is on a file system of device
# DEV (major:minor), or that keep ROOTDEV, a subhost's root overlay: their
# cwd, root or open file on it where it is no longer mounted (detached
# when its namespaces went), or their mount namespace, one of NS (inode
# numbers), where it is mounted. The numbers of a gone overlay and its
# namespaces may be another's by now: never another running subhost's.
# "pid N (COMMAND LINE): cwd PATH", "; " between them, one entry per
# process. One stat(1) for every process's links.
file_holders() {
	local fh_line fh_dev fh_ino fh_link fh_pid fh_what fh_seen fh_path old_ifs
	FILE_HOLDERS='' fh_seen=' '
	old_ifs=$IFS
	IFS='
'
	for fh_line in $(printf '%s\n' /proc/[0-9]*/cwd /proc/[0-9]*/root /proc/[0-9]*/fd/[0-9]* \
		/proc/[0-9]*/ns/mnt | xargs stat -L -c '%Hd:%Ld %i %n' 2>/dev/null |
		awk -v devs="$1" -v root="${2:-}" -v nss="${3:- }" 'index(devs, " " $1 " ") ||
			(root != "" && $1 == root) || ($3 ~ /\/ns\/mnt$/ && index(nss, " " $2 " "))'); do
		IFS=$old_ifs
		fh_dev=${fh_line%% *}
		fh_link=${fh_line#* }
		fh_ino=${fh_link%% *}
		fh_link=${fh_link#* }
		fh_pid=${fh_link#/proc/}
		fh_pid=${fh_pid%%/*}
		case "$fh_seen" in *" $fh_pid "*) continue ;; esac
		# ourselves, and the pipeline above, gone by now
		[ "$fh_pid" != "$$" ] && [ -d "/proc/$fh_pid" ] || continue
		fh_what=${fh_link#/proc/"$fh_pid"/}
		case "$fh_what" in
		ns/mnt)
			case "$3" in *" $fh_ino "*) ;; *) continue ;; esac
			dev_mounted "$fh_pid" "$2" && ! other_subhost_ns "$fh_pid" || continue
			fh_what="its mount namespace"
			;;
		*)
			case "$1" in
			*" $fh_dev "*) ;;
			*) ! dev_mounted "$fh_pid" "$fh_dev" || continue ;;
			esac
			case "$fh_what" in
			fd/*) fh_what="open file (fd ${fh_what#fd/})" ;;
			esac
			;;
		esac
		fh_path=$(readlink -- "$fh_link" 2>/dev/null)
		fh_seen="$fh_seen$fh_pid "
		holder_desc "$fh_pid"
		FILE_HOLDERS="$FILE_HOLDERS${FILE_HOLDERS:+; }$HOLDER_DESC: $fh_what $fh_path"
	done
	IFS=$old_ifs
}

# other_subhost_ns PID: PID is in the mount namespace of a running
# subhost's pid 1 (one with state, as it is).
other_subhost_ns() {
	local osn_name osn_pid1 osn_found
	osn_pid1=${PID1:-} osn_found=1
	state_names
	for osn_name in $STATE_NAMES; do
		subhost_pid1 "$osn_name" || continue
		# shellcheck disable=SC3013 # -ef: dash, busybox ash and bash alike
		if [ "/proc/$1/ns/mnt" -ef "/proc/$PID1/ns/mnt" ]; then
			osn_found=0
			break
		fi
	done
	PID1=$osn_pid1
	return "$osn_found"
}

# dev_mounted PID DEV: a file system of device DEV (major:minor) is
# mounted in the mount namespace of PID.
dev_mounted() {
	local dm_mm
	while read -r _ _ dm_mm _; do
		[ "$dm_mm" != "$2" ] || return 0
	done 2>/dev/null <"/proc/$1/mountinfo"
	return 1
}

# foreign_images_drop NAME: in the mount stage's mount namespace, a
# private copy of the host's, unmount (lazily: only this copy) the disk
# images that other subhosts mounted on the host, as their journals and
# the pending files of boots under way list them. The copy lives as long
# as subhost NAME and would keep such an image, and its loop device, in
# use after its own subhost stopped. An image that one of NAME's own
# paths is on (LOWER, UPPER, WORK, LIVE, a SHARE: a read-only image that
# two subhosts share) stays.
foreign_images_drop() {
	local fid_file fid_verb fid_dir
	for fid_file in "$STATE_ROOT"/*/undo "$STATE_ROOT"/pending.*; do
		[ -f "$fid_file" ] || continue
		[ "$fid_file" != "$STATE_ROOT/$1/undo" ] || continue
		while read -r fid_verb fid_dir; do
			[ "$fid_verb" = umount ] && [ -n "$fid_dir" ] || continue
			! own_path_on "$fid_dir" || continue
			umount -l -- "$fid_dir" 2>/dev/null
		done <"$fid_file"
	done
}

# own_path_on DIR: one of the subhost's paths (LOWER, UPPER, WORK, LIVE,
# the host side of a SHARE) is DIR or below it.
own_path_on() {
	local opo_path opo_spec old_ifs
	old_ifs=$IFS
	IFS=:
	# shellcheck disable=SC2086 # LOWER's layers
	set -- "$1" $LOWER
	IFS=$old_ifs
	opo_path=$1
	shift
	set -- "$@" "$UPPER" "$WORK" "$LIVE"
	IFS='
'
	for opo_spec in ${SHARE:-}; do
		IFS=$old_ifs
		share_parts "$opo_spec"
		set -- "$@" "$SHARE_HOST"
	done
	IFS=$old_ifs
	for opo_spec in "$@"; do
		real_dir "$opo_spec" && opo_spec=$REAL_DIR
		case "$opo_spec/" in
		"${opo_path%/}/"*) return 0 ;;
		esac
	done
	return 1
}
