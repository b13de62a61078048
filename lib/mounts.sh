# shellcheck shell=sh
# lib/mounts.sh — the mount table and the default hooks: one read of
# mountinfo (mount points, the mounts that hold UPPER and WORK, the cgroup
# hierarchies), mounts queued as fstab lines and made by one mount(8), and
# the work of the default PREMOUNT, POSTMOUNT and INIT hooks.
#
# The default hooks run in the mount stage's own shell when the config
# keeps them (a hook process costs as much as what it does); the scripts
# overlay-premount, overlay-postmount and overlay-init run the same
# functions for a custom hook that calls them.

# mountinfo_scan [PATH [PATH2 PATH3]]: one read of mountinfo: the cgroup
# hierarchies into CGROUP_HIER (the boot path asks several times; each
# read is the same); SCAN_MOUNTED set when PATH is a mount point, and
# SCAN_MOUNT_2 and SCAN_MOUNT_3 to the ids of the mounts that hold PATH2
# and PATH3; SCAN_TYPE_2 to the file system type of PATH2's, SCAN_RO_2
# set when that mount is read-only.
mountinfo_scan() {
	local scan_1 scan_2 scan_3 scan_len2 scan_len3 id mnt mopts rest ctl c line old_ifs opt
	CGROUP_HIER=
	SCAN_MOUNTED='' SCAN_MOUNT_2=- SCAN_MOUNT_3=- SCAN_TYPE_2='' SCAN_RO_2=
	scan_1='' scan_2='' scan_3='' scan_len2=0 scan_len3=0
	# mountinfo has real paths, blanks and backslashes escaped as fstab
	# has them.
	if [ -n "${1:-}" ] && real_dir "$1"; then
		fstab_escape "$REAL_DIR"
		scan_1=$FSTAB_ESC
	fi
	if [ -n "${2:-}" ] && real_dir "$2"; then
		fstab_escape "$REAL_DIR"
		scan_2=$FSTAB_ESC
	fi
	if [ -n "${3:-}" ] && real_dir "$3"; then
		fstab_escape "$REAL_DIR"
		scan_3=$FSTAB_ESC
	fi
	# shellcheck disable=SC2034 # SCAN_* are returned to the caller
	while read -r id _ _ _ mnt mopts rest; do
		[ "$mnt" != "$scan_1" ] || SCAN_MOUNTED=1
		# The longest mount point above a path holds it; a later mount on
		# the same point is on top.
		case "$scan_2/" in
		"${mnt%/}/"*)
			if [ "${#mnt}" -ge "$scan_len2" ]; then
				SCAN_MOUNT_2=$id scan_len2=${#mnt}
				# shellcheck disable=SC2086 # split "TYPE SOURCE SUPEROPTS"
				set -- ${rest#*- }
				SCAN_TYPE_2=$1 SCAN_RO_2=
				case "$mopts,:,${3:-}," in
				ro,* | *:,ro,*) SCAN_RO_2=1 ;;
				esac
			fi
			;;
		esac
		case "$scan_3/" in
		"${mnt%/}/"*)
			[ "${#mnt}" -lt "$scan_len3" ] || SCAN_MOUNT_3=$id scan_len3=${#mnt} ;;
		esac
		# shellcheck disable=SC2086 # split "TYPE SOURCE SUPEROPTS"
		set -- ${rest#*- }
		case "$1" in
		cgroup2)
			ctl=
			if read -r line <"$mnt/cgroup.controllers" 2>/dev/null; then
				for c in $line; do ctl="$ctl${ctl:+,}$c"; done
			fi
			CGROUP_HIER="${CGROUP_HIER}2 $mnt ${ctl:-none}
"
			;;
		cgroup)
			ctl=
			old_ifs=$IFS
			IFS=,
			for opt in $3; do
				case "$opt" in
				rw | ro | name=* | noprefix | clone_children | xattr | release_agent=* | cpuset_v2_mode | nsdelegate) ;;
				*) ctl="$ctl${ctl:+,}$opt" ;;
				esac
			done
			IFS=$old_ifs
			[ -z "$ctl" ] || CGROUP_HIER="${CGROUP_HIER}1 $mnt $ctl
"
			;;
		esac
	done </proc/self/mountinfo
}

# premount_interfaces: when UPPER has no /etc/network/interfaces (no
# file, link or whiteout), write one there (lo and a manual stanza per
# veth cable) so that the subhost's networking brings its links up and
# never uses a LOWER's (the host's, with LOWER=/), as upstream does.
# UPPER's content is the subhost's: a symlink it planted on the way is
# never followed (the file would be made where it points, on the host);
# the file is then not written, with a warning. No process of the
# subhost is alive while this runs (the previous boot's are ended before),
# so nothing changes the path between the checks and the write, which is
# an exclusive create.
premount_interfaces() {
	local pi_file pi_dir pi_i cable
	[ "$UPPER" != "$LOWER" ] || return 0
	for pi_dir in "$UPPER/etc" "$UPPER/etc/network"; do
		if [ -L "$pi_dir" ]; then
			warn "$pi_dir is a symbolic link: /etc/network/interfaces of $NAME not written (a link in UPPER is never followed)"
			return 0
		fi
		if [ ! -e "$pi_dir" ]; then
			mkdir -m 0755 -- "$pi_dir" || return 1
		elif [ ! -d "$pi_dir" ]; then
			# a whiteout or a file: the subhost has no such directory
			return 0
		fi
	done
	pi_file=$UPPER/etc/network/interfaces
	if [ -e "$pi_file" ] || [ -L "$pi_file" ]; then
		return 0
	fi
	(
		set -C
		{
			echo "# written by overlay-premount for subhost $NAME: edit freely"
			echo "auto lo"
			echo "iface lo inet loopback"
			pi_i=0
			for cable in $CABLES; do
				case "$cable" in
				*=.*) continue ;;
				esac
				printf '\nauto eth%s\niface eth%s inet manual\n' "$pi_i" "$pi_i"
				pi_i=$((pi_i + 1))
			done
		} >"$pi_file"
	)
}

# fstab_add SOURCE TARGET TYPE OPTIONS: queue one mount in FSTAB (fstab(5)
# lines, mounted in order by fstab_mount); blanks and backslashes in the
# paths are escaped as fstab wants them.
fstab_add() {
	local fa_line
	fstab_escape "$1"
	fa_line=$FSTAB_ESC
	fstab_escape "$2"
	fa_line="$fa_line $FSTAB_ESC $3"
	fstab_escape "$4"
	FSTAB="$FSTAB$fa_line $FSTAB_ESC 0 0
"
}

# fstab_escape STRING: set FSTAB_ESC to STRING with space, tab and
# backslash as octal escapes.
fstab_escape() {
	local fe_in fe_rest fe_char
	case "$1" in
	*[[:blank:]\\]*) ;;
	*)
		FSTAB_ESC=$1
		return 0
		;;
	esac
	fe_in=$1 FSTAB_ESC=
	while [ -n "$fe_in" ]; do
		fe_rest=${fe_in#?}
		fe_char=${fe_in%"$fe_rest"}
		fe_in=$fe_rest
		case "$fe_char" in
		' ') FSTAB_ESC="$FSTAB_ESC\\040" ;;
		'	') FSTAB_ESC="$FSTAB_ESC\\011" ;;
		\\) FSTAB_ESC="$FSTAB_ESC\\134" ;;
		*) FSTAB_ESC=$FSTAB_ESC$fe_char ;;
		esac
	done
}

# fstab_mount FILE: mount what FSTAB holds, in order, with one mount(8)
# (X-mount.mkdir makes missing mount points); FILE keeps the table.
fstab_mount() {
	[ -n "$FSTAB" ] || return 0
	printf '%s' "$FSTAB" >"$1" || die "cannot write $1"
	mount -a -T "$1" || die "cannot mount what $1 lists"
	FSTAB=
}

# postmount_fstab: queue the default POSTMOUNT mounts: a /dev tmpfs with
# a private devpts and a /dev/shm tmpfs, sysfs (read-only: the host's
# kernel; mounted in the subhost's network namespace, so /sys/class/net
# shows its interfaces), /run as a RAM_SIZE tmpfs with a /run/lock tmpfs,
# and the host's /etc/adjtime.
postmount_fstab() {
	local pm_shm
	fstab_add dev "$LIVE/dev" tmpfs nosuid,noexec,mode=0755,size=1m,X-mount.mkdir
	fstab_add devpts "$LIVE/dev/pts" devpts \
		newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec,X-mount.mkdir
	pm_shm=1m
	[ "$RAM_SIZE" = none ] || pm_shm=$RAM_SIZE
	fstab_add shm "$LIVE/dev/shm" tmpfs "nosuid,nodev,mode=1777,size=$pm_shm,X-mount.mkdir"
	fstab_add sysfs "$LIVE/sys" sysfs ro,nosuid,nodev,noexec,X-mount.mkdir
	if [ "$RAM_SIZE" != none ]; then
		fstab_add run "$LIVE/run" tmpfs "nosuid,nodev,mode=0755,size=$RAM_SIZE,X-mount.mkdir"
		fstab_add lock "$LIVE/run/lock" tmpfs nosuid,nodev,noexec,mode=1777,size=5m,X-mount.mkdir
	fi
	if [ -f /etc/adjtime ] && [ -f "$LIVE/etc/adjtime" ]; then
		fstab_add /etc/adjtime "$LIVE/etc/adjtime" none bind,ro
	fi
}

# postmount_devices: the standard nodes in the /dev tmpfs, copied from the
# host's in one process (the same devices a mknod of the standard numbers
# makes; ptmx opens the devpts next to it, the subhost's own), with the
# links to /proc/self/fd.
postmount_devices() {
	local pd_links link
	pd_links=/dev/fd
	for link in stdin stdout stderr; do
		[ -L "/dev/$link" ] && pd_links="$pd_links /dev/$link"
	done
	[ -L /dev/fd ] && [ "$pd_links" = "/dev/fd /dev/stdin /dev/stdout /dev/stderr" ] ||
		pd_links=
	# shellcheck disable=SC2086 # the host's links, when it has them all
	cp -a -- /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty \
		/dev/console /dev/ptmx $pd_links "$LIVE/dev/" || die "cannot copy the standard device nodes"
	if [ -z "$pd_links" ]; then
		ln -s /proc/self/fd "$LIVE/dev/fd" &&
			ln -s /proc/self/fd/0 "$LIVE/dev/stdin" &&
			ln -s /proc/self/fd/1 "$LIVE/dev/stdout" &&
			ln -s /proc/self/fd/2 "$LIVE/dev/stderr" || die "cannot create the /dev links"
	fi
}

# init_script: print the init script that runs as the subhost's pid 1: it
# starts the START services in order (a name with `service NAME start`,
# or its /etc/init.d script where there is no service(8); an absolute path
# is run as it is, with no argument, as upstream's eval did), reports the
# ones that failed on fd 7 ("failed NAME:STATUS..."; the supervisor names
# them), then execs the reaper, which announces readiness on fd 7 and
# stays as pid 1. A service that fails leaves the subhost up (for repair).
# One that has not finished starting after START_TIMEOUT seconds has
# failed (STATUS "timeout") and is left running: a `sleep` watchdog,
# killed by the service's subshell when it ends, is waited for (SIGPIPE:
# the one signal that shells report no "Terminated" for).
init_script() {
	local service
	printf '%s\n' "#!/bin/sh" "# init of subhost $NAME, written by overlay-init at boot." \
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		"export PATH" "cd /" 'failed=' 'start_service() {' '	case "$1" in' \
		'	/*) "$1" ;;' '	*)' '		if command -v service >/dev/null 2>&1; then' \
		'			service "$1" start' '		else' '			"/etc/init.d/$1" start' '		fi' \
		'		;;' '	esac' '}' 'start_failed() {' \
		'	echo "init: $1 failed to start (exit $2)" >&2' '	failed="$failed $1:$2"' '}' \
		'# The readiness fd is closed for services so that only pid 1 holds it.' \
		'run_service() {' "	sleep ${START_TIMEOUT:-90} 7>&- </dev/null >/dev/null 2>&1 &" '	dog=$!' \
		'	(start_service "$1"; rc=$?; kill -PIPE "$dog" 2>/dev/null; exit "$rc") 7>&- </dev/null &' \
		'	svc=$!' '	if wait "$dog"; then' \
		"		echo \"init: \$1 failed to start: not finished within ${START_TIMEOUT:-90} s (left running)\" >&2" \
		'		failed="$failed $1:timeout"' '		return 0' '	fi' \
		'	wait "$svc" || start_failed "$1" "$?"' '}'
	for service in $START; do
		[ "$service" = none ] && continue
		printf "run_service '%s'\n" "$service"
	done
	printf '%s\n' '[ -z "$failed" ] || echo "failed$failed" >&7'
	printf 'exec %s/reaper -t %s -r 7\n' "$SUBHOST_RUNDIR" "$STOP_TIMEOUT"
}

# reaper_exec_script: print the script that REAPER names inside the
# subhost: an init written for overlay-boot 1.6 ends with
# `exec ${REAPER:-/.reaper} $NAME`, and this makes that our reaper with
# our options (the argument is the name, which it needs not).
reaper_exec_script() {
	printf '%s\n' "#!/bin/sh" "# exec \$REAPER NAME: pid 1 of subhost $NAME becomes the reaper." \
		"exec $SUBHOST_RUNDIR/reaper -t $STOP_TIMEOUT -r 7"
}
