/* mmap(2) mapping types (the MAP_TYPE bits, one value), from <linux/mman.h>; X(name). */
X(MAP_SHARED)
X(MAP_PRIVATE)
X(MAP_SHARED_VALIDATE)
