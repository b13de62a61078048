#!/usr/bin/env bats
# What the C programs of src/ share: one new-mount-API shim
# (mount-api.h). The reaper stays standalone (pid 1, static).

load helpers

@test "the new mount API is declared once, in src/mount-api.h" {
	run sh -c "cd '$TOP/src' && grep -nE 'SYS_(fsopen|fsconfig|fsmount|move_mount|open_tree|mount_setattr)|#define (MOUNT_ATTR|OPEN_TREE|MOVE_MOUNT|FSOPEN|FSMOUNT|FSCONFIG)_|struct [a-z_]*mount_attr \\{' *.c *.h |
		grep -v '^mount-api\\.h:' | grep -v '^reaper\\.c:'"
	echo "$output"
	[ -z "$output" ]
}
