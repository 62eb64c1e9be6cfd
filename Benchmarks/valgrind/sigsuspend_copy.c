// Lets valgrind 3.19 run Swift programs: preloaded (LD_PRELOAD) into the program under valgrind.
//
// A Swift program with an async main ends its main thread in libdispatch, which then waits in
// sigsuspend() with a mask kept in read-only memory. valgrind 3.19's rt_sigsuspend wrapper takes
// its own internal signal out of the caller's mask in place, so it faults on that page
// ("VALGRIND INTERNAL ERROR: Valgrind received a signal 11", SEGV_ACCERR at the mask's address).
// Handing the kernel a copy of the mask on the stack avoids that; the program sees no difference.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    // The kernel's sigset is 64 bits, not glibc's 1024 (what glibc's own wrapper passes too).
    return (int)syscall(SYS_rt_sigsuspend, &copy, sizeof(unsigned long));
}
