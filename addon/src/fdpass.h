// Sending an fd over a unix socket (SCM_RIGHTS) with a message body, as the
// console socket and the seccomp listener expect. Async-signal-safe: used by
// the cloned child. (tsrunc-init, freestanding, has its own.)
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace tsrunc {

// Sends all of data, the fd riding on the first byte. Returns 0, or an errno.
inline int send_with_fd(int sock, const void* data, size_t len, int fd) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  size_t sent = 0;
  while (sent < len) {
    struct iovec iov = {const_cast<char*>(static_cast<const char*>(data)) + sent, len - sent};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (sent == 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN(sizeof(int));
      __builtin_memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EPIPE;
    sent += (size_t)n;
  }
  return 0;
}

}  // namespace tsrunc
