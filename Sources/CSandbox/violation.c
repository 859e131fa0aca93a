// violation.c: receive one seccomp user notification and record it.
//
// The domain's thread stays stopped in the syscall until the notification is answered,
// and we never answer: the kernel kills the domain through its pidfd, and SIGKILL ends
// the wait. So a refused call never returns into the domain, not even with an error,
// and the domain runs no further instruction of the thread that tried it. The report is
// what the operator sees.
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static size_t at_least(size_t kernel_size, size_t our_size) {
    return kernel_size > our_size ? kernel_size : our_size;
}

// Waits for a notification. Once the domain is gone the fd polls as POLLHUP: recent
// kernels then fail RECV with ENOENT, older ones block in it forever. Poll first, so
// every kernel answers ENOENT and the kernel's event loop never hangs on a dead domain.
static int wait_for_notification(int notify_fd) {
    struct pollfd p = {.fd = notify_fd, .events = POLLIN};
    if (poll(&p, 1, -1) < 0)
        return -1;
    if (!(p.revents & POLLIN)) {
        errno = p.revents & POLLNVAL ? EBADF : ENOENT;
        return -1;
    }
    return 0;
}

int nk_violation_receive(int notify_fd, nk_violation *out) {
    if (wait_for_notification(notify_fd) != 0)
        return -1;
    // The running kernel's structs may be larger than this header's: allocate its sizes.
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        return -1;
    struct seccomp_notif *request = calloc(1, at_least(sizes.seccomp_notif, sizeof *request));
    if (request == NULL)
        return -1;
    // EINTR: retry. ENOENT although the fd polled readable: the call was withdrawn
    // (its thread was interrupted or killed) and the domain may live on: EAGAIN.
    if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, request) != 0) {
        int saved = errno == ENOENT ? EAGAIN : errno;
        free(request);
        errno = saved;
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->pid = (pid_t)request->pid;
    out->id = request->id;
    out->syscall_nr = request->data.nr;
    out->arch = request->data.arch;
    memcpy(out->args, request->data.args, sizeof out->args);
    // The refused thread is still blocked in the call, so the arguments it points at are
    // read while it cannot touch them (its other threads still could).
    nk_describe_violation(out, notify_fd, request->id);
    free(request);
    return 0;
}

int nk_violation_continue(int notify_fd, uint64_t id) {
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        return -1;
    struct seccomp_notif_resp *response = calloc(1, at_least(sizes.seccomp_notif_resp, sizeof *response));
    if (response == NULL)
        return -1;
    response->id = id;
    response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    int r = ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, response);
    int saved = errno;
    free(response);
    errno = saved;
    return r;
}
