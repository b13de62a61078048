# shellcheck shell=sh
# lib/userns.sh — USERNS: a subhost whose root is an unprivileged id of
# the host. Its ids 0..COUNT-1 map to a host range picked for it (or given);
# the range is recorded in the state. The user namespace and the network
# namespace it owns are made by the userns-make helper (kept at
# STATE_ROOT/NAME/userns and /run/netns/NAME); overlay-pivot --userns
# builds the root in it over idmapped layers; upper-xattrs keeps UPPER in
# the form of the mode it is mounted in.

# Picked ranges: 65536 ids at a multiple of 65536 from 0x80000 up to
# 0x6fffffff, as systemd-nspawn's "pick" (never ids of real users).
USERNS_PICK_FIRST=524288
USERNS_PICK_SLOTS=28664
USERNS_SIZE=65536

# userns_on: the subhost has a user namespace of its own.
userns_on() {
	[ "${USERNS:-no}" != no ]
}

# userns_validate: check USERNS (yes, no, BASE or BASE:COUNT).
userns_validate() {
	local line base count
	line=$(key_line USERNS)
	[ "$USERNS" != no ] || return 0
	if [ -n "$POSTMOUNT" ] && [ "$POSTMOUNT" != "$LIBDIR/overlay-postmount" ]; then
		# A 1.6 config with its own POSTMOUNT boots as it did: the
		# default gives way, and says so.
		if [ -z "${SET_USERNS:-}" ]; then
			warn "$NAME: a POSTMOUNT hook works on LIVE as the host sees it: USERNS=no (root inside is the host's root; set USERNS=no to say so, or drop the hook)"
			USERNS=no
			return 0
		fi
		conf_error "$(key_line POSTMOUNT)" POSTMOUNT \
			"a POSTMOUNT hook works on LIVE as the host sees it, which a subhost with its own user namespace does not have (set USERNS=no)"
	fi
	case "$USERNS" in
	yes) return 0 ;;
	*:*) base=${USERNS%%:*} count=${USERNS#*:} ;;
	*) base=$USERNS count=$USERNS_SIZE ;;
	esac
	is_uint "$base" && is_uint "$count" ||
		conf_error "$line" USERNS "'$USERNS' is not yes, no, BASE or BASE:COUNT"
	[ "${#base}" -le 10 ] && [ "${#count}" -le 10 ] &&
		[ "$count" -ge 1 ] && [ $((base + count)) -le 4294967295 ] ||
		conf_error "$line" USERNS "range $base:$count is not within host ids 0-4294967294"
	[ "$base" -ge 1 ] ||
		conf_error "$line" USERNS "range $base:$count maps root inside to the host's root (use USERNS=no)"
}

# userns_ranges_in FILE: print "START COUNT" for every NAME:START:COUNT
# line of a subuid(5) or subgid(5) file.
userns_ranges_in() {
	local owner start count
	[ -r "$1" ] || return 0
	while IFS=: read -r owner start count; do
		case "$owner" in "" | "#"*) continue ;; esac
		is_uint "$start" && is_uint "$count" || continue
		printf '%s %s\n' "$start" "$count"
	done <"$1"
}

# userns_taken NAME: set USERNS_TAKEN to the ranges ("START COUNT" lines)
# that a subhost NAME may not overlap: /etc/subuid, /etc/subgid and the
# ranges of the other subhosts that have a state.
userns_taken() {
	local dir other range
	USERNS_TAKEN=$(userns_ranges_in /etc/subuid; userns_ranges_in /etc/subgid)
	for dir in "$STATE_ROOT"/*/; do
		other=${dir%/}
		other=${other##*/}
		[ "$other" != "$1" ] || continue
		[ -f "$dir/userns.range" ] || continue
		read -r range <"$dir/userns.range" || continue
		USERNS_TAKEN="$USERNS_TAKEN
${range%:*} ${range#*:}"
	done
}

# userns_overlap BASE COUNT: print the first taken range that BASE:COUNT
# overlaps, and succeed; fail when it overlaps none.
userns_overlap() {
	local start count
	while read -r start count; do
		[ -n "$start" ] || continue
		if [ "$1" -lt $((start + count)) ] && [ "$start" -lt $(($1 + $2)) ]; then
			printf '%s:%s\n' "$start" "$count"
			return 0
		fi
	done <<TAKEN
$USERNS_TAKEN
TAKEN
	return 1
}

# userns_pick NAME: set USERNS_BASE and USERNS_COUNT for subhost NAME:
# the range its USERNS gives, or the slot its name hashes to, the next
# free one when that is taken. Run under the pick lock.
userns_pick() {
	local slot tries sum other
	userns_taken "$1"
	case "$USERNS" in
	yes)
		USERNS_COUNT=$USERNS_SIZE
		read -r sum _ <<SUM
$(printf '%s' "$1" | cksum)
SUM
		slot=$((sum % USERNS_PICK_SLOTS))
		tries=0
		while :; do
			USERNS_BASE=$((USERNS_PICK_FIRST + slot * USERNS_SIZE))
			userns_overlap "$USERNS_BASE" "$USERNS_COUNT" >/dev/null || return 0
			tries=$((tries + 1))
			[ "$tries" -lt "$USERNS_PICK_SLOTS" ] ||
				die "no free range of $USERNS_SIZE host ids left for $1"
			slot=$(((slot + 1) % USERNS_PICK_SLOTS))
		done
		;;
	*:*) USERNS_BASE=${USERNS%%:*} USERNS_COUNT=${USERNS#*:} ;;
	*) USERNS_BASE=$USERNS USERNS_COUNT=$USERNS_SIZE ;;
	esac
	if other=$(userns_overlap "$USERNS_BASE" "$USERNS_COUNT"); then
		die "USERNS=$USERNS: host ids $USERNS_BASE:$USERNS_COUNT overlap $other (another subhost's, or in /etc/subuid or /etc/subgid)"
	fi
}

# userns_setup NAME: pick and record the range, make the user namespace
# and the network namespace it owns (instead of `ip netns add`), each
# journalled for undo.
userns_setup() {
	local sd
	sd=$STATE_ROOT/$1
	helper_path userns-make
	# One pick at a time: two boots must not take the same free range.
	exec 5>>"$STATE_ROOT/userns.lock" || die "cannot open $STATE_ROOT/userns.lock"
	flock 5 || die "cannot lock $STATE_ROOT/userns.lock"
	userns_pick "$1"
	state_put "$1" userns.range "$USERNS_BASE:$USERNS_COUNT"
	exec 5>&-
	log "user namespace of $1: ids 0-$((USERNS_COUNT - 1)) are host ids $USERNS_BASE-$((USERNS_BASE + USERNS_COUNT - 1))"
	# The helper removes what it made when it fails; journalled first so
	# that a supervisor killed while it runs is undone too.
	undo_push "$1" umount "$sd/userns"
	undo_push "$1" netns "$1"
	if ! "$HELPER" "$USERNS_BASE" "$USERNS_COUNT" "$sd/userns" "/run/netns/$1"; then
		undo_retract "$1" netns "$1"
		die "cannot create the user and network namespaces of $1 (the kernel refuses a user namespace in a chroot, or where they are disabled; USERNS=no boots without one)"
	fi
}

# upper_form FORM: UPPER in the form the overlay is about to be mounted
# in (user or trusted); a walk only when it was last used in the other.
upper_form() {
	[ "$UPPER" != "$LOWER" ] || return 0
	helper_path upper-xattrs
	"$HELPER" "$UPPER" "$1" || die "cannot convert the overlay attributes of $UPPER to the $1 form"
}

# pivot_escape STRING: set PV_ESC to STRING with the characters that the
# -o and -m specs of overlay-pivot split at (\ , :) escaped.
pivot_escape() {
	case "$1" in
	*[\\,:]*) PV_ESC=$(printf '%s' "$1" | sed 's/[\\,:]/\\&/g') ;;
	*) PV_ESC=$1 ;;
	esac
}

# userns_file_in_root PATH: PATH exists in the subhost's root (in UPPER or
# a LOWER, as the merged view would have it; a whiteout hides it).
userns_file_in_root() {
	local layer old_ifs
	[ -c "$UPPER$1" ] && return 1
	[ -e "$UPPER$1" ] && return 0
	old_ifs=$IFS
	IFS=:
	for layer in $LOWER; do
		if [ -e "$layer$1" ]; then
			IFS=$old_ifs
			return 0
		fi
	done
	IFS=$old_ifs
	return 1
}

# userns_exec_pivot REAPER COMMAND [ARG...]: the mount stage of a subhost
# with a user namespace, in place of this shell: overlay-pivot builds its
# whole root inside the namespace (the overlay, the default POSTMOUNT's
# /dev, devpts, /dev/shm, sysfs, /run, /run/lock and /etc/adjtime, the
# SHARE binds, our tmpfs with the reaper) and runs COMMAND as its pid 1.
userns_exec_pivot() {
	local sd reaper lowers layer old_ifs spec shm nargs devcg
	sd=$STATE_ROOT/$NAME
	reaper=$1
	shift
	nargs=$#
	if [ "$UPPER" = "$LOWER" ]; then
		pivot_escape "$LOWER"
		set -- "$@" -m "bind,$PV_ESC,/"
	else
		lowers=
		old_ifs=$IFS
		IFS=:
		for layer in $LOWER; do
			pivot_escape "$layer"
			lowers="$lowers${lowers:+:}$PV_ESC"
		done
		IFS=$old_ifs
		pivot_escape "$UPPER"
		spec="/,lowerdir=$lowers,upperdir=$PV_ESC"
		pivot_escape "$WORK"
		set -- "$@" -o "$spec,workdir=$PV_ESC"
	fi
	shm=1m
	[ "$RAM_SIZE" = none ] || shm=$RAM_SIZE
	# --dev: a tmpfs with null zero full random urandom tty bound from the
	# host (mknod is refused in a user namespace) and a devpts; ours over
	# it has the tty group; the console is the null device.
	set -- "$@" --dev /dev \
		-m devpts,devpts,/dev/pts,newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec \
		--dev-bind /dev/null /dev/console \
		-m "tmpfs,shm,/dev/shm,nosuid,nodev,mode=1777,size=$shm" \
		-m sysfs,sysfs,/sys,ro,nosuid,nodev,noexec
	# The subhost's cgroup v2 group, delegated to its root (lib/cgroup.sh):
	# its cgroup2 mount, whose root is the payload group, and the device
	# program on the group above, out of its reach.
	cgroup_v2_group "$NAME"
	devcg=$CG_V2
	if [ -n "$devcg" ] && [ -d "$devcg/$CG_PAYLOAD" ]; then
		set -- "$@" -m cgroup2,cgroup2,/sys/fs/cgroup,nosuid,nodev,noexec
	fi
	if [ "$RAM_SIZE" != none ]; then
		set -- "$@" -m "tmpfs,run,/run,nosuid,nodev,mode=0755,size=$RAM_SIZE" \
			-m tmpfs,lock,/run/lock,nosuid,nodev,noexec,mode=1777,size=5m
	fi
	if [ -f /etc/adjtime ] && userns_file_in_root /etc/adjtime; then
		set -- "$@" --ro-bind /etc/adjtime /etc/adjtime
	fi
	if [ -n "$SHARE" ]; then
		old_ifs=$IFS
		IFS='
'
		for spec in $SHARE; do
			IFS=$old_ifs
			share_parts "$spec"
			if [ -n "$SHARE_RO" ]; then
				set -- "$@" --ro-bind "$SHARE_HOST" "$SHARE_GUEST"
			else
				set -- "$@" --bind "$SHARE_HOST" "$SHARE_GUEST"
			fi
		done
		IFS=$old_ifs
	fi
	set -- "$@" -m "tmpfs,overlay-boot,$SUBHOST_RUNDIR,nosuid,nodev,mode=0700,size=2m" \
		--ro-bind "$reaper" "$SUBHOST_RUNDIR/reaper"
	[ ! -f "$sd/init" ] || set -- "$@" --ro-bind "$sd/init" "$SUBHOST_RUNDIR/init"
	[ ! -f "$sd/reaper-exec" ] || set -- "$@" --ro-bind "$sd/reaper-exec" "$SUBHOST_RUNDIR/reaper-exec"
	set -- "$@" --proc /proc --harden
	[ -z "$devcg" ] || set -- "$@" --device-cgroup "$devcg"
	# The command was first: move it to the end, after --.
	set -- "$@" --
	while [ "$nargs" -gt 0 ]; do
		set -- "$@" "$1"
		shift
		nargs=$((nargs - 1))
	done
	helper_path overlay-pivot
	exec "$HELPER" --userns "$sd/userns" \
		--unshare-pid --unshare-ipc --unshare-uts --unshare-time \
		--unshare-cgroup --hostname "$NAME" --netns "/run/netns/$NAME" \
		--pid-file "$sd/pid1" --exec-pid1 "$@"
}
