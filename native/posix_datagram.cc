// One datagram to an AF_UNIX SOCK_DGRAM socket, e.g. systemd's NOTIFY_SOCKET ('@' names
// Linux's abstract namespace).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "posix_util.h"

namespace overseer {

namespace {

#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;
#endif

Napi::Value SendDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToPath(info[0], "path");
  std::vector<uint8_t> data = CopyBytes(info[1], "data");

  auto fail = [&](int err, const char* syscall) {
    Napi::Error error = SysError(env, -err, syscall, path);
    error.Set("address", Napi::String::New(env, path));
    return error;
  };
  sockaddr_un addr;
  socklen_t length = 0;
  if (int err = MakeUnixAddress(path, &addr, &length)) throw fail(err, "sendto");

  UniqueFd fd(CloexecSocket(AF_UNIX, SOCK_DGRAM));
  if (fd.get() < 0) throw fail(errno, "socket");
  // This runs on the JS thread, so it must not block: a full receiver queue is EAGAIN.
  for (;;) {
    ssize_t n = sendto(fd.get(), data.data(), data.size(), MSG_DONTWAIT | kNoSignal,
                       reinterpret_cast<const sockaddr*>(&addr), length);
    if (n >= 0) break;
    if (errno != EINTR) throw fail(errno, "sendto");
  }
  return env.Undefined();
}

}  // namespace

void InitDatagram(Napi::Env env, Napi::Object exports) {
  exports.Set("sendDatagram", Napi::Function::New(env, SendDatagram, "sendDatagram"));
}

}  // namespace overseer
