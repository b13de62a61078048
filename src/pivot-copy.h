/* pivot-copy: copy a directory tree (the -o copyfrom= option). */
#ifndef PIVOT_COPY_H
#define PIVOT_COPY_H

#include <stdbool.h>

/* Copy the content of directory FROM into directory TO (both fds, O_PATH
 * allowed): directories, regular files and symlinks, with their modes.
 * Unless ROOT, set-id bits are not copied. Dies with WHAT on error. */
void pv_copy_tree(bool root, int from, int to, const char *what);

#endif
