/* Allocates and touches N MiB (default 2048); prints "allocated" on success,
 * "refused" when malloc fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 2048;
	char *p = malloc(mib << 20);

	if (!p) {
		printf("refused\n");
		return 3;
	}
	memset(p, 1, mib << 20);
	printf("allocated\n");
	return 0;
}
