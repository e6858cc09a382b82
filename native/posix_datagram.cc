// One datagram to an AF_UNIX SOCK_DGRAM socket, e.g. systemd's NOTIFY_SOCKET ('@' names
// Linux's abstract namespace), optionally with file descriptors (SCM_RIGHTS: FDSTORE=1).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "posix_util.h"
#include "surface.h"

namespace overseer {

namespace {

#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;
#endif

}  // namespace

Napi::Value SendDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToPath(info[0], "path");
  std::vector<uint8_t> data = CopyBytes(info[1], "data");
  std::vector<int> fds;
  if (info.Length() > 2 && !info[2].IsUndefined()) fds = ToFdArray(info[2], "fds", kMaxFdsPerMessage);

  auto fail = [&](int err, const char* syscall) {
    Napi::Error error = SysError(env, -err, syscall, path);
    error.Set("address", Napi::String::New(env, path));
    return error;
  };
  sockaddr_un addr;
  socklen_t length = 0;
  if (int err = MakeUnixAddress(path, &addr, &length)) throw fail(err, "sendmsg");

  UniqueFd fd(CloexecSocket(AF_UNIX, SOCK_DGRAM));
  if (fd.get() < 0) throw fail(errno, "socket");
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = length;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(fds.size() * sizeof(int)), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
  }
  // This runs on the JS thread, so it must not block: a full receiver queue is EAGAIN.
  for (;;) {
    ssize_t n = sendmsg(fd.get(), &msg, MSG_DONTWAIT | kNoSignal);
    if (n >= 0) break;
    if (errno != EINTR) throw fail(errno, "sendmsg");
  }
  return env.Undefined();
}

}  // namespace overseer
