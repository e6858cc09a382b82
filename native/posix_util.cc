#include "posix_util.h"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace overseer {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) CloseQuietly(fd_);
  fd_ = fd;
}

void CloseQuietly(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

int CloexecSocket(int domain, int type) {
#ifdef SOCK_CLOEXEC
  return socket(domain, type | SOCK_CLOEXEC, 0);
#else
  // macOS has no SOCK_CLOEXEC: a fork between these two calls could inherit the fd.
  int fd = socket(domain, type, 0);
  if (fd < 0) return -1;
  int err = SetCloexecFlag(fd, true);
  if (err != 0) {
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
#endif
}

int SetCloexecFlag(int fd, bool on) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return errno;
  int wanted = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  if (wanted != flags && fcntl(fd, F_SETFD, wanted) < 0) return errno;
  return 0;
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int WaitFd(int fd, short events, int64_t deadlineMs) {
  for (;;) {
    int64_t remaining = deadlineMs - NowMs();
    if (remaining < 0) remaining = 0;
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = events;
    pfd.revents = 0;
    int n = poll(&pfd, 1, static_cast<int>(remaining));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ETIMEDOUT;
    if (pfd.revents & POLLNVAL) return EBADF;
    return 0;
  }
}

int MakeUnixAddress(const std::string& path, sockaddr_un* addr, socklen_t* length) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  const size_t base = offsetof(sockaddr_un, sun_path);
  if (!path.empty() && path[0] == '@') {
#ifdef __linux__
    // Abstract names are not NUL-terminated; the address length says where they end.
    if (path.size() > sizeof addr->sun_path) return ENAMETOOLONG;
    std::memcpy(addr->sun_path + 1, path.data() + 1, path.size() - 1);
    *length = static_cast<socklen_t>(base + path.size());
    return 0;
#else
    return ENOTSUP;
#endif
  }
  // Leave room for the terminating NUL, which not every kernel tolerates missing.
  if (path.size() >= sizeof addr->sun_path) return ENAMETOOLONG;
  std::memcpy(addr->sun_path, path.data(), path.size());
  *length = static_cast<socklen_t>(base + path.size() + 1);
  return 0;
}

}  // namespace overseer
