# shellcheck shell=sh
# lib/cgroup.sh — the cgroups of a subhost: overlay-boot/NAME in the v2
# hierarchy and in each v1 hierarchy that carries memory, pids or cpu, the
# limits (MEMORY_MAX, PIDS_MAX, CPU_MAX), joining, killing everything in
# them, and removing them. The hierarchies come from mountinfo_scan
# (lib/mounts.sh), never from an assumed path.
#
# The processes of a subhost live in overlay-boot/NAME/payload of each
# hierarchy, and its cgroup namespace is made there; the limits stay on
# overlay-boot/NAME, above the root of what it can mount, so that not even
# USERNS=no's root inside can raise them. A subhost with a user namespace
# gets its v2 payload delegated (as systemd-nspawn and LXC do): owned by
# its root, it is the root of the subhost's cgroup2 mount, where its root
# makes and fills groups of its own.
CG_PAYLOAD=payload

# cgroup_for CONTROLLER: set CG_TYPE and CG_MNT to the hierarchy that
# offers CONTROLLER: v2 when it is there, else its v1 hierarchy (both
# empty when none does).
cgroup_for() {
	local want type mnt ctl
	[ -n "${CGROUP_HIER:-}" ] || mountinfo_scan
	CG_TYPE='' CG_MNT=''
	for want in 2 1; do
		while read -r type mnt ctl; do
			[ "$type" = "$want" ] || continue
			case ",$ctl," in
			*",$1,"*)
				CG_TYPE=$type CG_MNT=$mnt
				return 0
				;;
			esac
		done <<HIER
$CGROUP_HIER
HIER
	done
}

# cgroup_groups NAME: set CG_LIST to the group directories that hold
# subhost NAME, one per line: one in the v2 hierarchy (for membership) and
# one in each v1 hierarchy that carries memory, pids or cpu.
cgroup_groups() {
	local cg_list type mnt controller
	[ -n "${CGROUP_HIER:-}" ] || mountinfo_scan
	cg_list=
	while read -r type mnt _; do
		[ "$type" = 2 ] && cg_list="$cg_list$mnt/overlay-boot/$1
"
	done <<HIER
$CGROUP_HIER
HIER
	for controller in memory pids cpu; do
		cgroup_for "$controller"
		[ "$CG_TYPE" = 1 ] || continue
		case "
$cg_list" in
		*"
$CG_MNT/overlay-boot/$1
"*) ;;
		*) cg_list="$cg_list$CG_MNT/overlay-boot/$1
" ;;
		esac
	done
	CG_LIST=$cg_list
}

# cgroup_setup NAME: create the subhost's groups and apply the limits.
cgroup_setup() {
	local old_ifs group tries
	cgroup_groups "$1"
	old_ifs=$IFS
	IFS='
'
	CG_PAYLOADS=
	for group in $CG_LIST; do
		# Journalled before it is made: a kill in between leaves no orphan.
		undo_push "$1" cgroup "$group"
		CG_PAYLOADS="$CG_PAYLOADS$group/$CG_PAYLOAD
"
	done
	tries=0
	# shellcheck disable=SC2086 # one directory per line
	until mkdir -p -- $CG_PAYLOADS 2>/dev/null; do
		# A concurrent stop may remove the shared parent in between.
		tries=$((tries + 1))
		[ "$tries" -lt 5 ] || die "cannot create the cgroups of $1: $CG_PAYLOADS"
	done
	IFS=$old_ifs
	[ -z "$MEMORY_MAX" ] || cgroup_limit "$1" memory "$MEMORY_MAX"
	[ -z "$PIDS_MAX" ] || cgroup_limit "$1" pids "$PIDS_MAX"
	cgroup_delegate "$1"
}

# cgroup_cpu_max NAME: apply CPU_MAX, the mount stage's last step before
# it execs overlay-pivot: the mounts and hooks are not slowed by it.
cgroup_cpu_max() {
	[ -z "$CPU_MAX" ] || cgroup_limit "$1" cpu "$(cpu_max_values)"
}

# cgroup_delegate NAME: let the controllers of NAME's v2 group reach its
# payload; with a user namespace, give the payload to the subhost's root
# (USERNS_BASE): the directory and the files the kernel lists as
# delegatable.
cgroup_delegate() {
	local name type mnt group files file ctl enable
	name=$1
	files=
	! userns_on || files=$(cat /sys/kernel/cgroup/delegate 2>/dev/null) ||
		files='cgroup.procs cgroup.threads cgroup.subtree_control'
	while read -r type mnt _; do
		[ "$type" = 2 ] || continue
		group=$mnt/overlay-boot/$name
		enable=
		read -r ctl <"$group/cgroup.controllers" || ctl=
		for ctl in $ctl; do enable="$enable +$ctl"; done
		[ -z "$enable" ] || cgroup_write "$group/cgroup.subtree_control" "${enable# }"
		userns_on || continue
		set --
		for file in $files; do
			[ ! -e "$group/$CG_PAYLOAD/$file" ] || set -- "$@" "$group/$CG_PAYLOAD/$file"
		done
		chown -- "$USERNS_BASE:$USERNS_BASE" "$group/$CG_PAYLOAD" "$@" ||
			die "cannot give cgroup $group/$CG_PAYLOAD to the subhost's root (host id $USERNS_BASE)"
	done <<HIER
$CGROUP_HIER
HIER
}

# cgroup_v2_group NAME: set CG_V2 to NAME's group in the cgroup v2
# hierarchy (where the device program goes), or empty when there is none.
cgroup_v2_group() {
	local type mnt
	CG_V2=
	[ -n "${CGROUP_HIER:-}" ] || mountinfo_scan
	while read -r type mnt _; do
		if [ "$type" = 2 ] && [ -d "$mnt/overlay-boot/$1" ]; then
			# shellcheck disable=SC2034 # returned to the caller
			CG_V2=$mnt/overlay-boot/$1
			return 0
		fi
	done <<HIERARCHIES
$CGROUP_HIER
HIERARCHIES
}

# cgroup_member GROUP: set CG_MEMBER to the group that processes of GROUP
# join: its payload (GROUP for a subhost started before there was one).
cgroup_member() {
	CG_MEMBER=$1
	[ ! -d "$1/$CG_PAYLOAD" ] || CG_MEMBER=$1/$CG_PAYLOAD
}

# cgroup_limit NAME CONTROLLER VALUE: write the limit into the right file
# of the hierarchy that carries CONTROLLER.
cgroup_limit() {
	local group
	cgroup_for "$2"
	set -- "$1" "$2" "$3" "$CG_TYPE" "$CG_MNT"
	[ -n "$4" ] || die "cgroup controller $2 is not available on this host"
	group=$5/overlay-boot/$1
	if [ "$4" = 2 ]; then
		cgroup_enable_v2 "$5" "$2"
		case "$2" in
		memory) cgroup_write "$group/memory.max" "$3" ;;
		pids) cgroup_write "$group/pids.max" "$3" ;;
		cpu) cgroup_write "$group/cpu.max" "$3" ;;
		esac
		return
	fi
	case "$2" in
	memory)
		if [ "$3" = max ]; then
			cgroup_write "$group/memory.limit_in_bytes" -1
		else
			cgroup_write "$group/memory.limit_in_bytes" "$3"
		fi
		;;
	pids) cgroup_write "$group/pids.max" "$3" ;;
	cpu)
		# shellcheck disable=SC2086 # "QUOTA PERIOD" split on purpose
		set -- $3
		cgroup_write "$group/cpu.cfs_period_us" "$2"
		if [ "$1" = max ]; then
			cgroup_write "$group/cpu.cfs_quota_us" -1
		else
			cgroup_write "$group/cpu.cfs_quota_us" "$1"
		fi
		;;
	esac
}

# cgroup_enable_v2 MOUNT CONTROLLER: let CONTROLLER reach overlay-boot/*.
cgroup_enable_v2() {
	cgroup_write "$1/cgroup.subtree_control" "+$2"
	cgroup_write "$1/overlay-boot/cgroup.subtree_control" "+$2"
}

cgroup_write() {
	printf '%s\n' "$2" >"$1" 2>/dev/null || die "cannot write '$2' to $1"
}

# cgroup_join NAME: move the calling shell into every group of NAME, as
# its undo journal lists them (the groups that were made). It writes 0,
# "the writing process": in a subshell $$ would name its parent.
cgroup_join() {
	local group old_ifs
	journal_groups "$1"
	old_ifs=$IFS
	IFS='
'
	for group in $JOURNAL_GROUPS; do
		IFS=$old_ifs
		[ -d "$group" ] || continue
		cgroup_member "$group"
		echo 0 >"$CG_MEMBER/cgroup.procs" || die "cannot join cgroup $CG_MEMBER"
	done
	IFS=$old_ifs
}

# cgroup_populated GROUP: GROUP or a group below it has a process.
cgroup_populated() {
	local key value
	if [ -f "$1/cgroup.events" ]; then
		# IFS of its own: callers loop with IFS set to a newline.
		while IFS=' ' read -r key value; do
			[ "$key" != populated ] || [ "$value" = 1 ] || return 1
		done <"$1/cgroup.events"
		return 0
	fi
	# cgroup files report size 0: read the list, never test it with -s.
	read -r _ <"$1/cgroup.procs" 2>/dev/null
}

# cgroup_kill GROUP: SIGKILL everything in GROUP and the groups below it
# until it is empty: v2's cgroup.kill takes the subtree; v1 goes down.
cgroup_kill() {
	local tries pid sub
	[ -f "$1/cgroup.procs" ] || return 0
	if [ ! -f "$1/cgroup.kill" ]; then
		for sub in "$1"/*/; do
			[ ! -d "$sub" ] || cgroup_kill "${sub%/}"
		done
	fi
	tries=0
	while cgroup_populated "$1"; do
		if [ -f "$1/cgroup.kill" ]; then
			echo 1 >"$1/cgroup.kill" 2>/dev/null
		else
			while read -r pid; do
				kill -KILL "$pid" 2>/dev/null
			done <"$1/cgroup.procs"
		fi
		tries=$((tries + 1))
		[ "$tries" -lt 100 ] || {
			warn "processes left in cgroup $1"
			return 1
		}
		sleep 0.05
	done
}

# cgroup_rmdir_below GROUP: remove the groups below GROUP, deepest first
# (empty ones: their processes were killed).
cgroup_rmdir_below() {
	local sub
	for sub in "$1"/*/; do
		[ -d "$sub" ] || continue
		sub=${sub%/}
		cgroup_rmdir_below "$sub"
		rmdir -- "$sub" 2>/dev/null
	done
}

# cgroup_remove_all GROUPS: remove the groups (one per line) and their
# overlay-boot parents when those are left empty, with one rmdir; retried
# while the kernel still counts exiting processes.
cgroup_remove_all() {
	local cra_left cra_parents cra_still old_ifs group tries
	cra_left=
	cra_parents=
	old_ifs=$IFS
	IFS='
'
	for group in $1; do
		IFS=$old_ifs
		[ -d "$group" ] || continue
		cgroup_kill "$group"
		# The payload and the groups its root made below it go first.
		[ ! -d "$group/$CG_PAYLOAD" ] || cgroup_rmdir_below "$group"
		cra_left="$cra_left$group
"
		cra_parents="$cra_parents${group%/*}
"
	done
	tries=0
	while [ -n "$cra_left" ]; do
		# A parent still holding other subhosts stays: that failure is fine.
		# shellcheck disable=SC2086 # one directory per line
		rmdir -- $cra_left $cra_parents 2>/dev/null
		cra_still=
		for group in $cra_left; do
			[ ! -d "$group" ] || cra_still="$cra_still$group
"
		done
		cra_left=$cra_still
		[ -n "$cra_left" ] || break
		tries=$((tries + 1))
		if [ "$tries" -ge 100 ]; then
			IFS=$old_ifs
			warn "cannot remove cgroups: $cra_left"
			return 1
		fi
		sleep 0.05
	done
	IFS=$old_ifs
	return 0
}
