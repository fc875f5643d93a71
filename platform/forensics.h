/* Forensics of a refused call: which code in the task made it.
 *
 * For a task stopped in an intercepted call, collects its user-space stack
 * (libunwind, symbol names where the binary has them) and the disassembly of
 * the instructions around the syscall site (capstone), with the mapping the
 * site lies in (a file, or anonymous memory: injected code). Works on both
 * backends: with the ptrace backend every register is known; with unotify only
 * the instruction and stack pointers are (from /proc/<tid>/syscall), which is
 * enough to name the function that made the call and usually its callers.
 */
#ifndef JH_PLATFORM_FORENSICS_H
#define JH_PLATFORM_FORENSICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "platform/platform.h"

#define JH_FORENSICS_MAX_FRAMES 32
#define JH_FORENSICS_BYTES_BEFORE 64 /* disassembled before the syscall instruction */
#define JH_FORENSICS_BYTES_AFTER 16
#define JH_FORENSICS_STACK_SNAPSHOT (64 * 1024) /* bytes of stack copied for the unwinder */
#define JH_FORENSICS_TIMEOUT_MS 100

/* Collects the forensics of task `tid`, stopped at `ip` (after the syscall
 * instruction) with registers `regs` (NULL or partial: missing ip/sp are taken
 * from /proc/<tid>/syscall). The caller keeps the task stopped meanwhile.
 *
 * Memory is read here with process_vm_readv (a bounded snapshot of the stack
 * and code around ip); unwinding, ELF parsing and disassembly then run in a
 * forked helper process given JH_FORENSICS_TIMEOUT_MS, killed if it overruns
 * or crashes, so that neither a hostile binary nor a stalled read can hold the
 * sentry. Fills `stack` and `disasm` (one line each, '\n'-separated, no
 * trailing newline); a part that could not be collected says why in words.
 * Returns 0, or -errno if nothing could be collected (both strings then hold
 * the reason). */
int jh_forensics_collect(pid_t tid, uint64_t ip, const struct jh_task_regs *regs, char *stack,
			 size_t stack_cap, char *disasm, size_t disasm_cap);

#endif
