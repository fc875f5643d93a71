/* jh-bench-loop: a tight loop of one syscall-level operation, timed from
 * inside, so that process start-up and the sandbox's set-up are excluded.
 *
 *   jh-bench-loop OP [MAX_OPS [BUDGET_MS]]
 *   OP: getppid | open | stat | uname | connect | setns
 *
 * Prints "<ns> ns/op <OP> <iterations> ops" on stdout; bench/bench.py reads the
 * first field. Exit status 0, or 1 with a one-line error. */
#include <stdio.h>
#include <string.h>

#include "bench/ops.h"

int main(int argc, char **argv)
{
	uint64_t max_ops = 1000000, budget_ms = 200, ops;
	double ns;
	int op, r;

	if (argc < 2 || argc > 4 || (op = bench_op_parse(argv[1])) < 0 ||
	    (argc > 2 && !bench_parse_u64(argv[2], &max_ops)) ||
	    (argc > 3 && !bench_parse_u64(argv[3], &budget_ms))) {
		fprintf(stderr, "usage: jh-bench-loop getppid|open|stat|uname|connect|setns "
				"[MAX_OPS [BUDGET_MS]]\n");
		return 1;
	}
	r = bench_op_measure(op, max_ops, budget_ms * 1000000u, &ns, &ops);
	if (r < 0) {
		fprintf(stderr, "jh-bench-loop: %s failed: %s\n", argv[1], strerror(-r));
		return 1;
	}
	printf("%.1f ns/op %s %llu ops\n", ns, argv[1], (unsigned long long)ops);
	return 0;
}
