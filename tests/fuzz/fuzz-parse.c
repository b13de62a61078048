/* libFuzzer target for overlay-pivot's argument and spec parser.
 *
 * The input is split at NUL bytes into an argument vector; the first
 * byte's low bit picks the personality (overlay-pivot or ovroot). The
 * whole input is also parsed as one -m and one -o spec.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -std=c11 -Isrc tests/fuzz/fuzz-parse.c src/pivot-parse.c -o fuzz-parse
 *   ./fuzz-parse tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pivot-parse.h"

#define MAX_ARGS 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 1], err[256];
	struct pv_config cfg;
	struct pv_op op;
	enum pv_personality who;
	size_t i = 0;
	int argc = 0;

	buf = malloc(size + 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	buf[size] = '\0';
	who = size && (data[0] & 1) ? PV_OVROOT : PV_OVERLAY_PIVOT;
	while (i <= size && argc < MAX_ARGS) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;

	/* skip the selector byte's argument, like argv[0] */
	int r = pv_parse(&cfg, who, argc - 1, argv + 1, err, sizeof err);

	if (strnlen(err, sizeof err) == sizeof err)
		abort();	/* the message must be terminated */
	if (r < 0 && !err[0])
		abort();	/* a failure always says why */
	for (size_t k = 0; r == 0 && k < cfg.nops; k++) {
		const struct pv_op *o = &cfg.ops[k];

		/* every op the parser accepts is complete */
		if (!o->dst)
			abort();
		if (o->type == PV_OP_OVSPEC && !o->lowers && !o->shadow)
			abort();
		for (size_t j = 0; o->lowers && j < o->nlowers; j++)
			if (!o->lowers[j] || !*o->lowers[j])
				abort();
	}
	if (r == 0 && !cfg.help && !cfg.version &&
	    (!cfg.argv || cfg.argc < 0 || cfg.argv[cfg.argc] != NULL))
		abort();
	pv_config_free(&cfg);

	(void)pv_parse_mount_spec(&op, buf, err, sizeof err);
	pv_op_free(&op);
	(void)pv_parse_overlay_spec(&op, buf, err, sizeof err);
	pv_op_free(&op);
	free(buf);
	return 0;
}
