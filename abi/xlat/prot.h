/* mmap(2)/mprotect(2) PROT_* bits, from <linux/mman.h>; X(name). A zero-valued
 * entry names the value 0. */
X(PROT_NONE)
X(PROT_READ)
X(PROT_WRITE)
X(PROT_EXEC)
X(PROT_SEM)
#ifdef PROT_BTI
X(PROT_BTI)
#endif
#ifdef PROT_MTE
X(PROT_MTE)
#endif
X(PROT_GROWSDOWN)
X(PROT_GROWSUP)
