// Small POSIX helpers shared by the posix_*.cc files: fd ownership, CLOEXEC sockets,
// deadlines for poll(), and AF_UNIX addresses.
#ifndef OVERSEER_POSIX_UTIL_H
#define OVERSEER_POSIX_UTIL_H

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace overseer {

// Owns one fd and closes it unless released, so no error path can leak it.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// close() that keeps errno, for cleanup on error paths. EINTR is not retried: Linux has
// already released the fd, and a retry could close one another thread just opened.
void CloseQuietly(int fd);

// socket() with the fd CLOEXEC from birth where the platform allows (SOCK_CLOEXEC), so a
// concurrent fork/exec never inherits it. Returns -1 with errno set on failure.
int CloexecSocket(int domain, int type);

// Sets FD_CLOEXEC on `fd`; returns 0 or an errno value.
int SetCloexecFlag(int fd, bool on);

// Milliseconds on a monotonic clock.
int64_t NowMs();

// poll()s one fd for `events` until ready or `deadlineMs` (NowMs-based) passes. Returns 0
// when the fd is ready (including error/hang-up, which the next syscall reports), ETIMEDOUT,
// or another errno value. EINTR is retried with the remaining time.
int WaitFd(int fd, short events, int64_t deadlineMs);

// Fills a sockaddr_un for `path`. A leading '@' names Linux's abstract namespace. Returns 0,
// ENAMETOOLONG (does not fit sun_path) or ENOTSUP ('@' where there is no abstract namespace).
int MakeUnixAddress(const std::string& path, sockaddr_un* addr, socklen_t* length);

}  // namespace overseer

#endif
