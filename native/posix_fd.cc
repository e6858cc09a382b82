// Plain file-descriptor operations: what a socket fd is, its CLOEXEC flag, dup and close.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "posix_util.h"
#include "surface.h"

namespace overseer {

namespace {

std::string UnixPath(const sockaddr_un& addr, socklen_t length) {
  const size_t base = offsetof(sockaddr_un, sun_path);
  if (length <= base) return "";  // unbound (or autobind not yet done)
  size_t size = length - base;
  if (size > sizeof addr.sun_path) size = sizeof addr.sun_path;
  if (addr.sun_path[0] == '\0') {
    // Linux's abstract namespace: the name is every byte after the NUL, per the length.
    return size <= 1 ? "" : "@" + std::string(addr.sun_path + 1, size - 1);
  }
  return std::string(addr.sun_path, strnlen(addr.sun_path, size));
}

const char* TypeName(int type) {
  switch (type) {
    case SOCK_STREAM: return "stream";
    case SOCK_DGRAM: return "dgram";
    case SOCK_SEQPACKET: return "seqpacket";
    default: return "other";
  }
}

// SO_ACCEPTCONN where the kernel answers it; platforms that do not (older macOS) report false.
bool IsListening(Napi::Env env, int fd) {
#ifdef SO_ACCEPTCONN
  int value = 0;
  socklen_t length = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0) return value != 0;
  if (errno != ENOPROTOOPT && errno != EINVAL) throw SysError(env, -errno, "getsockopt");
#else
  (void)env;
  (void)fd;
#endif
  return false;
}

}  // namespace

Napi::Value DescribeFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(info[0], "fd");

  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof storage);
  socklen_t length = sizeof storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    throw SysError(env, -errno, "getsockname");
  }
  int type = 0;
  socklen_t typeLength = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLength) != 0) {
    throw SysError(env, -errno, "getsockopt");
  }

  Napi::Object result = Napi::Object::New(env);
  char text[INET6_ADDRSTRLEN] = "";
  switch (storage.ss_family) {
    case AF_INET: {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
      inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      result.Set("family", "IPv4");
      result.Set("address", text);
      result.Set("port", static_cast<double>(ntohs(v4->sin_port)));
      break;
    }
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      result.Set("family", "IPv6");
      result.Set("address", text);
      result.Set("port", static_cast<double>(ntohs(v6->sin6_port)));
      break;
    }
    case AF_UNIX:
      result.Set("family", "unix");
      result.Set("path", UnixPath(*reinterpret_cast<const sockaddr_un*>(&storage), length));
      break;
    default:
      result.Set("family", "other");
      break;
  }
  result.Set("type", TypeName(type));
  result.Set("listening", IsListening(env, fd));
  return result;
}

Napi::Value GetCloexec(const Napi::CallbackInfo& info) {
  int fd = ToFd(info[0], "fd");
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) throw SysError(info.Env(), -errno, "fcntl");
  return Napi::Boolean::New(info.Env(), (flags & FD_CLOEXEC) != 0);
}

Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  int fd = ToFd(info[0], "fd");
  bool on = ToBool(info[1], "on");
  if (int err = SetCloexecFlag(fd, on)) throw SysError(info.Env(), -err, "fcntl");
  return info.Env().Undefined();
}

Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = ToFd(info[0], "fd");
  // Atomically CLOEXEC, and never 0-2: a copy parked in a stdio slot would be handed to the
  // next spawned child as its stdin/stdout/stderr.
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw SysError(info.Env(), -errno, "fcntl");
  return Napi::Number::New(info.Env(), copy);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ToFd(info[0], "fd");
  // EINTR is success: the fd is already gone on Linux, and retrying could close a reused one.
  if (close(fd) != 0 && errno != EINTR) throw SysError(info.Env(), -errno, "close");
  return info.Env().Undefined();
}

}  // namespace overseer
