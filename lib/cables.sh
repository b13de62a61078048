# shellcheck shell=sh
# lib/cables.sh — the network cables of a subhost (CABLES): parsing,
# validation, making them (veth pairs, VLANs, bridges, ifupdown) with
# their undo steps, and describing them for overlay-list.
#
# Cable i of subhost NAME is a veth pair: host end NAMEi, subhost end ethi.
# "BRIDGE" attaches the host end to that bridge, "=MAC" sets the subhost
# end's address, and "BRIDGE=.N" makes VLAN N on the previous cable's host
# end (NAMEi.N) instead of a new pair.

# cable_rows: set CABLE_ROWS to one "KIND INDEX HOSTEND BRIDGE VALUE" line
# per cable of CABLES (host ends named from NAME), KIND veth (VALUE the MAC
# or -) or vlan (VALUE the tag); BRIDGE - when empty. A variable, not
# output, so that overlay-list reads every subhost's cables in its own
# shell.
cable_rows() {
	local ce_i ce_last ce_bridge ce_value cable
	ce_i=0
	ce_last=
	CABLE_ROWS=
	for cable in $CABLES; do
		ce_bridge=${cable%%=*}
		ce_value=-
		case "$cable" in
		*=*) ce_value=${cable#*=} ;;
		esac
		case "$ce_value" in
		.*)
			if [ -z "$ce_last" ]; then
				CABLE_ROWS="${CABLE_ROWS}vlan - - ${ce_bridge:--} ${ce_value#.}
"
			else
				CABLE_ROWS="${CABLE_ROWS}vlan $((ce_i - 1)) $ce_last.${ce_value#.} ${ce_bridge:--} ${ce_value#.}
"
			fi
			;;
		*)
			ce_last=$NAME$ce_i
			CABLE_ROWS="${CABLE_ROWS}veth $ce_i $ce_last ${ce_bridge:--} ${ce_value:--}
"
			ce_i=$((ce_i + 1))
			;;
		esac
	done
}

# cable_each: print the rows of cable_rows.
cable_each() {
	cable_rows
	printf '%s' "$CABLE_ROWS"
}

# cable_validate: every cable is checked before anything is made.
cable_validate() {
	local cv_line kind i hostend bridge value
	cv_line=$(key_line CABLES)
	cable_each | while read -r kind i hostend bridge value; do
		[ "$hostend" != - ] ||
			conf_error "$cv_line" CABLES "VLAN cable =.$value has no previous cable to ride on"
		[ ${#hostend} -le 15 ] ||
			conf_error "$cv_line" CABLES "host end $hostend is longer than 15 characters (shorten NAME)"
		if [ "$bridge" != - ]; then
			[ -d "/sys/class/net/$bridge/bridge" ] ||
				conf_error "$cv_line" CABLES "bridge $bridge does not exist"
		fi
		if [ "$kind" = vlan ]; then
			is_uint "$value" && [ "$value" -ge 1 ] && [ "$value" -le 4094 ] ||
				conf_error "$cv_line" CABLES "VLAN tag '$value' is not in 1-4094"
		elif [ "$value" != - ]; then
			is_mac "$value" ||
				conf_error "$cv_line" CABLES "'$value' is not a MAC address like 02:00:00:00:00:01"
			case "$value" in
			?[13579bBdDfF]:*)
				conf_error "$cv_line" CABLES "MAC $value is a multicast address" ;;
			esac
		fi
		cable_owner "$hostend"
		if [ -n "$CABLE_OWNER" ]; then
			conf_error "$cv_line" CABLES "host end $hostend is $CABLE_OWNER_CABLE of running subhost $CABLE_OWNER (host ends are NAME + index: rename $NAME or $CABLE_OWNER)"
		fi
		if [ -e "/sys/class/net/$hostend" ]; then
			conf_error "$cv_line" CABLES "host end $hostend already exists (remove it, or is $NAME running?)"
		fi
	done || exit 1
}

# cable_owner HOSTEND: set CABLE_OWNER to the other subhost (booted or
# booting, as its state directory says) whose cables include HOSTEND, and
# CABLE_OWNER_CABLE to which of its cables it is; both empty when none.
# Names collide (cable 10 of flc and cable 0 of flc1 are both flc10), and
# the loser must learn whose link it is before it makes anything.
cable_owner() {
	local co_dir co_name co_cables kind i hostend bridge value
	CABLE_OWNER='' CABLE_OWNER_CABLE=''
	for co_dir in "$STATE_ROOT"/*/; do
		co_name=${co_dir%/}
		co_name=${co_name##*/}
		[ "$co_name" != "$NAME" ] && [ -f "$co_dir/cables" ] || continue
		read -r co_cables <"$co_dir/cables" || continue
		[ -n "$co_cables" ] || continue
		while read -r kind i hostend bridge value; do
			if [ "$hostend" = "$1" ]; then
				CABLE_OWNER=$co_name
				if [ "$kind" = veth ]; then
					CABLE_OWNER_CABLE="cable $i"
				else
					CABLE_OWNER_CABLE="VLAN $value"
				fi
				return 0
			fi
		done <<EACH
$(NAME=$co_name CABLES=$co_cables cable_each)
EACH
	done
}

# cable_owner_says HOSTEND: ": it is cable N of subhost X" when another
# subhost owns HOSTEND, for an error message; nothing otherwise.
cable_owner_says() {
	cable_owner "$1"
	[ -z "$CABLE_OWNER" ] || printf ': %s is %s of subhost %s' "$1" "$CABLE_OWNER_CABLE" "$CABLE_OWNER"
}

is_mac() {
	printf '%s\n' "$1" | grep -Eqx '[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}'
}

# ifupdown_knows IFACE: the host's ifupdown has a stanza for IFACE.
ifupdown_knows() {
	command -v ifquery >/dev/null 2>&1 && ifquery "$1" >/dev/null 2>&1
}

# ifupdown_forget IFACE: drop ifupdown's record of an interface that no
# longer exists (left by a crash), so that ifup does not refuse it.
ifupdown_forget() {
	rm -f -- "/run/network/ifstate.$1"
	if [ -f /run/network/ifstate ]; then
		sed -i "/^$1=/d" /run/network/ifstate
	fi
}

# cable_attach HOSTEND BRIDGE: bridge it, or ifup it, or just set it up.
cable_attach() {
	if [ "$2" != - ]; then
		if command -v brctl >/dev/null 2>&1; then
			brctl addif "$2" "$1" || die "cannot add $1 to bridge $2"
		else
			ip link set dev "$1" master "$2" || die "cannot add $1 to bridge $2"
		fi
		ip link set dev "$1" up || die "cannot set $1 up"
	elif ifupdown_knows "$1"; then
		ifupdown_forget "$1"
		ifup "$1" || die "ifup $1 failed"
		undo_push "$NAME" ifdown "$1"
	else
		ip link set dev "$1" up || die "cannot set $1 up"
	fi
}

# cables_setup: make every cable of the subhost, each recorded for undo.
cables_setup() {
	local kind i hostend bridge value parent
	[ -n "$CABLES" ] || return 0
	cable_each | while read -r kind i hostend bridge value; do
		if [ "$kind" = veth ]; then
			# Journalled first, so that a kill right after the add is undone.
			undo_push "$NAME" link "$hostend"
			if ! ip link add "$hostend" type veth peer name "eth$i" netns "$NAME"; then
				undo_retract "$NAME" link "$hostend"
				die "cannot create veth pair $hostend/eth$i$(cable_owner_says "$hostend")"
			fi
			if [ "$value" != - ]; then
				ip -n "$NAME" link set dev "eth$i" address "$value" ||
					die "cannot set the address of eth$i to $value"
			fi
			ip -n "$NAME" link set dev "eth$i" up || die "cannot set eth$i up"
		else
			parent=${hostend%.*}
			if [ "$bridge" = - ] && ifupdown_knows "$hostend"; then
				ip link set dev "$parent" up || die "cannot set $parent up"
				ifupdown_forget "$hostend"
				undo_push "$NAME" link "$hostend"
				ifup "$hostend" || die "ifup $hostend failed"
				undo_push "$NAME" ifdown "$hostend"
				continue
			fi
			undo_push "$NAME" link "$hostend"
			if ! ip link add link "$parent" name "$hostend" type vlan id "$value"; then
				undo_retract "$NAME" link "$hostend"
				die "cannot create VLAN $value on $parent (does the kernel have 802.1Q support?)"
			fi
		fi
		cable_attach "$hostend" "$bridge"
	done || return 1
}

# netns_view_all NAME...: what every given subhost's network namespace
# holds, from one netns-view process for them all (an `ip` per subhost
# made the listing grow by a fork and exec per subhost): the views are
# kept in NETNS_VIEWS, in the order of the names, for netns_view.
netns_view_all() {
	NETNS_VIEWS=
	[ $# -gt 0 ] || return 0
	helper_path netns-view
	NETNS_VIEWS=$("$HELPER" "$@" 2>/dev/null)
	NETNS_VIEWS="${NETNS_VIEWS:+$NETNS_VIEWS
}"
}

# netns_view NAME: set NET_MACS ("INTERFACE MAC" lines) and ADDRESSES (its
# global IPv4 and IPv6 addresses, space separated) from NETNS_VIEWS. The
# names are asked in netns_view_all's order, so NAME's lines are at the
# front; they are taken off as they are read.
netns_view() {
	local nv_line nv_if nv_kind nv_value
	NET_MACS='' ADDRESSES=''
	while [ -n "$NETNS_VIEWS" ]; do
		nv_line=${NETNS_VIEWS%%"
"*}
		case "$nv_line" in
		"$1 "*) ;;
		*) break ;;
		esac
		NETNS_VIEWS=${NETNS_VIEWS#*"
"}
		read -r _ nv_if nv_kind nv_value <<LINE
$nv_line
LINE
		case "$nv_kind" in
		mac) NET_MACS="$NET_MACS$nv_if $nv_value
" ;;
		*) ADDRESSES="$ADDRESSES${ADDRESSES:+ }$nv_value" ;;
		esac
	done
}

# cables_describe NAME: set CABLE_LIST to one "HOSTEND BRIDGE SUBHOSTEND
# MAC" item per cable of a running subhost, ; separated (netns_view first).
# It sets CABLES and NAME to the subhost's, for cable_rows.
cables_describe() {
	local kind i hostend bridge value cd_mac cd_if cd_addr
	state_read "$1" cables || STATE_VALUE=
	CABLES=$STATE_VALUE NAME=$1 CABLE_LIST=''
	[ -n "$CABLES" ] || return 0
	cable_rows
	while read -r kind i hostend bridge value; do
		[ -n "$kind" ] || continue
		if [ "$kind" = veth ]; then
			cd_mac=-
			while read -r cd_if cd_addr; do
				[ "$cd_if" != "eth$i" ] || cd_mac=$cd_addr
			done <<MACS
$NET_MACS
MACS
			CABLE_LIST="$CABLE_LIST${CABLE_LIST:+;}$hostend $bridge eth$i $cd_mac"
		else
			CABLE_LIST="$CABLE_LIST${CABLE_LIST:+;}$hostend $bridge eth$i.$value vlan"
		fi
	done <<EACH
$CABLE_ROWS
EACH
}
