// Making connections off the event loop: unixConnect (client side) and accept (server
// side). Both are bounded by a poll() deadline, and the fds they return are CLOEXEC.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "args.h"
#include "errors.h"
#include "posix_util.h"
#include "promise_worker.h"
#include "surface.h"

namespace overseer {

namespace {

int SetNonBlocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return errno;
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0) return errno;
  return 0;
}

void SleepMs(int64_t ms) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ms / 1000);
  ts.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
  nanosleep(&ts, nullptr);
}

// Resolves with an fd; closes it if the promise could not take ownership.
class FdWorker : public PromiseWorker {
 public:
  using PromiseWorker::PromiseWorker;
  ~FdWorker() override {
    if (fd_ >= 0) CloseQuietly(fd_);
  }

 protected:
  Napi::Value Result(Napi::Env env) override {
    Napi::Value value = Napi::Number::New(env, fd_);
    fd_ = -1;  // JS owns it now
    return value;
  }
  int fd_ = -1;
};

class UnixConnectWorker : public FdWorker {
 public:
  UnixConnectWorker(Napi::Env env, std::string path, int timeoutMs)
      : FdWorker(env, "overseer.unixConnect"), path_(std::move(path)), timeoutMs_(timeoutMs) {}

 protected:
  void Execute() override {
    const int64_t deadline = NowMs() + timeoutMs_;
    sockaddr_un addr;
    socklen_t length = 0;
    if (int err = MakeUnixAddress(path_, &addr, &length)) return Fail(-err, "connect", path_);

    UniqueFd fd(CloexecSocket(AF_UNIX, SOCK_STREAM));
    if (fd.get() < 0) return Fail(-errno, "socket");
    // Non-blocking while connecting, so a full backlog cannot hold this thread forever.
    if (int err = SetNonBlocking(fd.get(), true)) return Fail(-err, "fcntl");

    for (;;) {
      if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), length) == 0) break;
      int err = errno;
      if (err == EISCONN) break;
      if (err == EAGAIN) {
        // Linux: the listener's backlog is full; the socket stays unconnected, so retry.
        int64_t remaining = deadline - NowMs();
        if (remaining <= 0) return Fail(-ETIMEDOUT, "connect", path_);
        SleepMs(std::min<int64_t>(remaining, 5));
        continue;
      }
      if (err == EINPROGRESS || err == EALREADY || err == EINTR) {
        if (int waitErr = WaitFd(fd.get(), POLLOUT, deadline)) return Fail(-waitErr, "connect", path_);
        int soError = 0;
        socklen_t soLength = sizeof soError;
        if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soError, &soLength) != 0) {
          return Fail(-errno, "getsockopt");
        }
        if (soError != 0) return Fail(-soError, "connect", path_);
        break;
      }
      return Fail(-err, "connect", path_);
    }
    // Callers get a blocking fd; sendFds/recvFds bound each call themselves (MSG_DONTWAIT).
    if (int err = SetNonBlocking(fd.get(), false)) return Fail(-err, "fcntl");
    fd_ = fd.release();
  }

 private:
  std::string path_;
  int timeoutMs_;
};

class AcceptWorker : public FdWorker {
 public:
  AcceptWorker(Napi::Env env, int listenFd, int timeoutMs)
      : FdWorker(env, "overseer.accept"), listenFd_(listenFd), timeoutMs_(timeoutMs) {}

 protected:
  void Execute() override {
    const int64_t deadline = NowMs() + timeoutMs_;
    for (;;) {
      if (int err = WaitFd(listenFd_, POLLIN, deadline)) {
        return Fail(-err, err == ETIMEDOUT || err == EBADF ? "accept" : "poll");
      }
      // Another process sharing the listener may win the race for this connection: a
      // non-blocking listener then reports EAGAIN and we poll again. (A blocking one would
      // wait in accept() for the next connection.)
#if defined(__linux__) || defined(__FreeBSD__)
      int fd = accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
#else
      int fd = accept(listenFd_, nullptr, nullptr);
      if (fd >= 0) {
        if (int err = SetCloexecFlag(fd, true)) {
          CloseQuietly(fd);
          return Fail(-err, "fcntl");
        }
      }
#endif
      if (fd >= 0) {
        fd_ = fd;
        return;
      }
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED || err == EPROTO) {
        continue;  // the pending connection went away; wait for the next one
      }
      return Fail(-err, "accept");
    }
  }

 private:
  int listenFd_;
  int timeoutMs_;
};

}  // namespace

Napi::Value UnixConnect(const Napi::CallbackInfo& info) {
  std::string path = ToPath(info[0], "path");
  int timeoutMs = ToTimeoutMs(info[1], "timeoutMs");
  return (new UnixConnectWorker(info.Env(), std::move(path), timeoutMs))->Start();
}

Napi::Value Accept(const Napi::CallbackInfo& info) {
  int listenFd = ToFd(info[0], "listenFd");
  int timeoutMs = ToTimeoutMs(info[1], "timeoutMs");
  return (new AcceptWorker(info.Env(), listenFd, timeoutMs))->Start();
}

}  // namespace overseer
