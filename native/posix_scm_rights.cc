// Passing file descriptors between processes over a unix stream socket (SCM_RIGHTS).
// libuv's read() drops ancillary data, so the sockets used here are ones the addon made
// (unixConnect/accept) and never net.Socket objects.
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "posix_util.h"
#include "promise_worker.h"
#include "surface.h"

namespace overseer {

namespace {

#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;  // EPIPE instead of SIGPIPE when the peer is gone
#else
constexpr int kNoSignal = 0;  // macOS: SO_NOSIGPIPE is set on the socket instead
#endif

#ifdef MSG_CMSG_CLOEXEC
constexpr int kRecvCloexec = MSG_CMSG_CLOEXEC;  // received fds are CLOEXEC atomically
#else
constexpr int kRecvCloexec = 0;  // set right after recvmsg instead
#endif

// A control buffer for `count` descriptors, aligned for cmsghdr.
class ControlBuffer {
 public:
  explicit ControlBuffer(size_t count)
      : size_(count == 0 ? 0 : CMSG_SPACE(count * sizeof(int))),
        storage_(size_ / sizeof(cmsghdr) + 1) {}
  void* data() { return size_ == 0 ? nullptr : storage_.data(); }
  size_t size() const { return size_; }

 private:
  size_t size_;
  std::vector<cmsghdr> storage_;
};

class SendFdsWorker : public PromiseWorker {
 public:
  SendFdsWorker(Napi::Env env, int sockFd, std::vector<int> fds, std::vector<uint8_t> data, int timeoutMs)
      : PromiseWorker(env, "overseer.sendFds"),
        sockFd_(sockFd),
        fds_(std::move(fds)),
        data_(std::move(data)),
        timeoutMs_(timeoutMs) {}

 protected:
  void Execute() override {
    const int64_t deadline = NowMs() + timeoutMs_;
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
    int one = 1;
    if (setsockopt(sockFd_, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) != 0) {
      return Fail(-errno, "setsockopt");
    }
#endif
    ControlBuffer control(fds_.size());
    struct iovec iov;
    iov.iov_base = data_.data();
    iov.iov_len = data_.size();
    struct msghdr msg;
    std::memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds_.empty()) {
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(fds_.size() * sizeof(int));
      std::memcpy(CMSG_DATA(cmsg), fds_.data(), fds_.size() * sizeof(int));
    }

    // MSG_DONTWAIT bounds every call whatever the fd's own blocking mode; poll() waits.
    const int flags = MSG_DONTWAIT | kNoSignal;
    size_t sent = 0;
    for (;;) {
      ssize_t n = sendmsg(sockFd_, &msg, flags);
      if (n >= 0) {
        sent = static_cast<size_t>(n);
        break;
      }
      if (!Retry(errno, deadline, "sendmsg")) return;
    }
    // The descriptors travelled with the first byte; a short write only leaves plain bytes.
    // (A timeout here leaves the stream mid-message: the caller must close the socket.)
    while (sent < data_.size()) {
      ssize_t n = send(sockFd_, data_.data() + sent, data_.size() - sent, flags);
      if (n >= 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (!Retry(errno, deadline, "send")) return;
    }
  }

  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  // True to try the send again; false after recording the failure.
  bool Retry(int err, int64_t deadline, const char* syscall) {
    if (err == EINTR) return true;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (int waitErr = WaitFd(sockFd_, POLLOUT, deadline)) {
        Fail(-waitErr, syscall);
        return false;
      }
      return true;
    }
    Fail(-err, syscall);
    return false;
  }

  int sockFd_;
  std::vector<int> fds_;
  std::vector<uint8_t> data_;  // copied on the JS thread: the Buffer may change meanwhile
  int timeoutMs_;
};

class RecvFdsWorker : public PromiseWorker {
 public:
  RecvFdsWorker(Napi::Env env, int sockFd, size_t maxFds, size_t maxBytes, int timeoutMs)
      : PromiseWorker(env, "overseer.recvFds"),
        sockFd_(sockFd),
        maxFds_(maxFds),
        maxBytes_(maxBytes),
        timeoutMs_(timeoutMs) {}

  ~RecvFdsWorker() override { CloseAll(); }

 protected:
  void Execute() override {
    const int64_t deadline = NowMs() + timeoutMs_;
    data_.resize(maxBytes_);
    ControlBuffer control(maxFds_);
    struct iovec iov;
    struct msghdr msg;
    ssize_t n;
    for (;;) {
      if (int err = WaitFd(sockFd_, POLLIN, deadline)) return Fail(-err, "recvmsg");
      iov.iov_base = data_.data();
      iov.iov_len = data_.size();
      std::memset(&msg, 0, sizeof msg);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      n = recvmsg(sockFd_, &msg, MSG_DONTWAIT | kRecvCloexec);
      if (n >= 0) break;
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return Fail(-errno, "recvmsg");
    }
    data_.resize(static_cast<size_t>(n));

    // Take every descriptor that arrived, in every SCM_RIGHTS message, before judging any.
    if (msg.msg_controllen > 0) {
      for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char* p = CMSG_DATA(cmsg);
        for (size_t i = 0; i < count; i++) {
          int fd;
          std::memcpy(&fd, p + i * sizeof(int), sizeof fd);
          fds_.push_back(fd);
        }
      }
    }
#ifndef MSG_CMSG_CLOEXEC
    for (int fd : fds_) {
      if (int err = SetCloexecFlag(fd, true)) {
        CloseAll();
        return Fail(-err, "fcntl");
      }
    }
#endif
    if ((msg.msg_flags & MSG_CTRUNC) != 0 || fds_.size() > maxFds_) {
      // The kernel dropped some descriptors (or sent more than we allow): the message is
      // unusable, and the ones that did arrive must not leak.
      CloseAll();
      return Fail(-EMSGSIZE, "recvmsg",
                  "(ancillary data truncated: MSG_CTRUNC or more than " + std::to_string(maxFds_) +
                      " descriptors; the descriptors that arrived were closed)");
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("data", Napi::Buffer<uint8_t>::Copy(env, data_.data(), data_.size()));
    Napi::Array fds = Napi::Array::New(env, fds_.size());
    for (size_t i = 0; i < fds_.size(); i++) fds.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds_[i]));
    result.Set("fds", fds);
    fds_.clear();  // JS owns them now
    return result;
  }

 private:
  void CloseAll() {
    for (int fd : fds_) CloseQuietly(fd);
    fds_.clear();
  }

  int sockFd_;
  size_t maxFds_;
  size_t maxBytes_;
  int timeoutMs_;
  std::vector<uint8_t> data_;
  std::vector<int> fds_;
};

}  // namespace

Napi::Value SendFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sockFd = ToFd(info[0], "sockFd");
  std::vector<int> fds = ToFdArray(info[1], "fds", kMaxFdsPerMessage);
  std::vector<uint8_t> data = CopyBytes(info[2], "data");
  if (data.empty() || data.size() > kMaxMessageBytes) {
    // At least one byte: ancillary data cannot travel on an empty stream write.
    throw RangeErrorWithCode(env, "ERR_OUT_OF_RANGE",
                             "The value of \"data.length\" is out of range. It must be >= 1 && <= " +
                                 std::to_string(kMaxMessageBytes) + ". Received " + std::to_string(data.size()));
  }
  int timeoutMs = ToTimeoutMs(info[3], "timeoutMs");
  return (new SendFdsWorker(env, sockFd, std::move(fds), std::move(data), timeoutMs))->Start();
}

Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  int sockFd = ToFd(info[0], "sockFd");
  size_t maxFds = static_cast<size_t>(ToInteger(info[1], "maxFds", 0, kMaxFdsPerMessage));
  size_t maxBytes = static_cast<size_t>(ToInteger(info[2], "maxBytes", 1, kMaxMessageBytes));
  int timeoutMs = ToTimeoutMs(info[3], "timeoutMs");
  return (new RecvFdsWorker(info.Env(), sockFd, maxFds, maxBytes, timeoutMs))->Start();
}

}  // namespace overseer
