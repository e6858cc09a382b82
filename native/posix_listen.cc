// Listening sockets made outside libuv: the master holds them as plain fds (its own event
// loop never accepts on them) and hands them to workers, which serve them with
// server.listen({ fd }).
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "posix_util.h"
#include "surface.h"

namespace overseer {

namespace {

struct Failure {
  int err = 0;
  const char* syscall = "";
};

struct IpEndpoint {
  sockaddr_storage storage;
  socklen_t length = 0;
  int family = AF_UNSPEC;
};

// Parses an IP literal (never a name: no DNS here). IPv6 may carry a %zone (name or index).
bool ParseIp(const std::string& host, int port, IpEndpoint* out) {
  std::memset(&out->storage, 0, sizeof out->storage);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out->storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    out->length = sizeof *v4;
    out->family = AF_INET;
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  std::string address = host;
  size_t percent = host.find('%');
  if (percent != std::string::npos) {
    std::string zone = host.substr(percent + 1);
    address = host.substr(0, percent);
    if (zone.empty()) return false;
    char* end = nullptr;
    unsigned long index = std::strtoul(zone.c_str(), &end, 10);
    if (*end != '\0') index = if_nametoindex(zone.c_str());
    if (index == 0 || index > UINT32_MAX) return false;
    v6->sin6_scope_id = static_cast<uint32_t>(index);
  }
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) != 1) return false;
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(static_cast<uint16_t>(port));
  out->length = sizeof *v6;
  out->family = AF_INET6;
  return true;
}

IpEndpoint AnyAddress(int family, int port) {
  IpEndpoint any;
  ParseIp(family == AF_INET6 ? "::" : "0.0.0.0", port, &any);
  return any;
}

int SetIntOption(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

// socket + setsockopt + bind + listen. On failure the fd is closed and *failure says where.
int OpenTcpListener(const IpEndpoint& endpoint, bool ipv6Only, bool reusePort, int backlog,
                    Failure* failure) {
  UniqueFd fd(CloexecSocket(endpoint.family, SOCK_STREAM));
  if (fd.get() < 0) {
    *failure = {errno, "socket"};
    return -1;
  }
  // Restarting masters rebind while old connections sit in TIME_WAIT.
  if (int err = SetIntOption(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1)) {
    *failure = {err, "setsockopt"};
    return -1;
  }
  if (endpoint.family == AF_INET6) {
    // Always explicit: the default follows a sysctl (net.ipv6.bindv6only).
    if (int err = SetIntOption(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, ipv6Only ? 1 : 0)) {
      *failure = {err, "setsockopt"};
      return -1;
    }
  }
  if (reusePort) {
#if defined(SO_REUSEPORT_LB)
    // FreeBSD: plain SO_REUSEPORT lets the last listener take every connection.
    const int option = SO_REUSEPORT_LB;
#elif defined(SO_REUSEPORT) && !defined(__APPLE__)
    const int option = SO_REUSEPORT;
#else
    const int option = -1;
#endif
    int err = option < 0 ? ENOTSUP : SetIntOption(fd.get(), SOL_SOCKET, option, 1);
    if (err != 0) {
      *failure = {err, "setsockopt"};
      return -1;
    }
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&endpoint.storage), endpoint.length) != 0) {
    *failure = {errno, "bind"};
    return -1;
  }
  if (listen(fd.get(), backlog) != 0) {
    *failure = {errno, "listen"};
    return -1;
  }
  return fd.release();
}

Napi::Error ListenError(Napi::Env env, const Failure& failure, const std::string& host, int port) {
  // Node formats these as "<address>:<port>", IPv6 without brackets.
  Napi::Error err = SysError(env, -failure.err, failure.syscall, host + ":" + std::to_string(port));
  err.Set("address", Napi::String::New(env, host));
  err.Set("port", Napi::Number::New(env, port));
  return err;
}

}  // namespace

Napi::Value TcpListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = ToObject(info[0], "options");
  Napi::Value hostValue = options.Get("host");
  std::string host = ToString(hostValue, "options.host");
  int port = static_cast<int>(ToInteger(options.Get("port"), "options.port", 0, 65535));
  int backlog = static_cast<int>(ToInteger(options.Get("backlog"), "options.backlog", 0, INT32_MAX));
  bool ipv6Only = ToBool(options.Get("ipv6Only"), "options.ipv6Only");
  bool reusePort = ToBool(options.Get("reusePort"), "options.reusePort");

#if defined(__APPLE__)
  if (reusePort) {
    throw NotSupported(env, "setsockopt",
                       "macOS's SO_REUSEPORT does not balance load: the newest listener takes every "
                       "connection");
  }
#endif

  Failure failure;
  if (host.empty()) {
    // All interfaces: IPv6 any (dual stack unless ipv6Only), or IPv4 any without IPv6.
    int fd = OpenTcpListener(AnyAddress(AF_INET6, port), ipv6Only, reusePort, backlog, &failure);
    if (fd >= 0) return Napi::Number::New(env, fd);
    bool noIpv6 = failure.err == EAFNOSUPPORT || failure.err == EADDRNOTAVAIL;
    if (!noIpv6 || ipv6Only) throw ListenError(env, failure, "::", port);
    fd = OpenTcpListener(AnyAddress(AF_INET, port), false, reusePort, backlog, &failure);
    if (fd >= 0) return Napi::Number::New(env, fd);
    throw ListenError(env, failure, "0.0.0.0", port);
  }

  IpEndpoint endpoint;
  if (!ParseIp(host, port, &endpoint)) {
    ThrowInvalidValue(hostValue, "options.host", "must be an IP address literal (no host names)");
  }
  int fd = OpenTcpListener(endpoint, ipv6Only, reusePort, backlog, &failure);
  if (fd < 0) throw ListenError(env, failure, host, port);
  return Napi::Number::New(env, fd);
}

Napi::Value UnixListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToPath(info[0], "path");
  int backlog = static_cast<int>(ToInteger(info[1], "backlog", 0, INT32_MAX));

  auto fail = [&](int err, const char* syscall) {
    Napi::Error error = SysError(env, -err, syscall, path);
    error.Set("address", Napi::String::New(env, path));
    return error;
  };
  sockaddr_un addr;
  socklen_t length = 0;
  if (int err = MakeUnixAddress(path, &addr, &length)) throw fail(err, "bind");

  UniqueFd fd(CloexecSocket(AF_UNIX, SOCK_STREAM));
  if (fd.get() < 0) throw fail(errno, "socket");
  // No unlink() here: whether an existing file is stale is the caller's call.
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), length) != 0) throw fail(errno, "bind");
  if (listen(fd.get(), backlog) != 0) throw fail(errno, "listen");
  return Napi::Number::New(env, fd.release());
}

}  // namespace overseer
