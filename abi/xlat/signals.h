/* Signal names, in value order (strace xlat style): a list, not code.
 *
 * The includer defines
 *   X(name)      a standard signal from <signal.h> (same numbers on x86_64 and
 *                aarch64);
 *   XALIAS(name) a second name for a signal above (name -> number only);
 *   XRT(n)       real-time signal SIGRTMIN + n in the kernel's numbering, where
 *                SIGRTMIN is 32 (libc reserves the first few and moves its own
 *                SIGRTMIN, so its macro is not used).
 */
X(SIGHUP)
X(SIGINT)
X(SIGQUIT)
X(SIGILL)
X(SIGTRAP)
X(SIGABRT)
X(SIGBUS)
X(SIGFPE)
X(SIGKILL)
X(SIGUSR1)
X(SIGSEGV)
X(SIGUSR2)
X(SIGPIPE)
X(SIGALRM)
X(SIGTERM)
X(SIGSTKFLT)
X(SIGCHLD)
X(SIGCONT)
X(SIGSTOP)
X(SIGTSTP)
X(SIGTTIN)
X(SIGTTOU)
X(SIGURG)
X(SIGXCPU)
X(SIGXFSZ)
X(SIGVTALRM)
X(SIGPROF)
X(SIGWINCH)
X(SIGIO)
X(SIGPWR)
X(SIGSYS)

XALIAS(SIGIOT)
XALIAS(SIGPOLL)
XALIAS(SIGCLD)

XRT(1) XRT(2) XRT(3) XRT(4) XRT(5) XRT(6) XRT(7) XRT(8)
XRT(9) XRT(10) XRT(11) XRT(12) XRT(13) XRT(14) XRT(15) XRT(16)
XRT(17) XRT(18) XRT(19) XRT(20) XRT(21) XRT(22) XRT(23) XRT(24)
XRT(25) XRT(26) XRT(27) XRT(28) XRT(29) XRT(30) XRT(31) XRT(32)
