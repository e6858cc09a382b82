// Who is on the other end of a unix socket: the master uses the peer's uid to admit
// control-socket clients.
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/ucred.h>
#endif

#include <cerrno>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "surface.h"

namespace overseer {

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(info[0], "fd");

  // Only a connected unix socket has a peer with credentials. Checked first because Linux
  // answers SO_PEERCRED on other sockets with made-up values (uid 65534, pid 0).
  sockaddr_storage storage;
  socklen_t length = sizeof storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    throw SysError(env, -errno, "getsockname");
  }
  if (storage.ss_family != AF_UNIX) {
    throw SysError(env, -EAFNOSUPPORT, "getsockname", "(peer credentials need a unix socket)");
  }
  length = sizeof storage;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    throw SysError(env, -errno, "getpeername");
  }

  double uid, gid, pid;
#if defined(SO_PEERCRED) && defined(__linux__)
  struct ucred cred;
  socklen_t credLength = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credLength) != 0) {
    throw SysError(env, -errno, "getsockopt");
  }
  uid = cred.uid;
  gid = cred.gid;
  pid = cred.pid;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
  uid_t peerUid;
  gid_t peerGid;
  if (getpeereid(fd, &peerUid, &peerGid) != 0) throw SysError(env, -errno, "getpeereid");
  uid = peerUid;
  gid = peerGid;
  pid = -1;  // unknown unless the platform says
#if defined(LOCAL_PEERPID)
  pid_t peerPid = 0;
  socklen_t pidLength = sizeof peerPid;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &peerPid, &pidLength) != 0) {
    throw SysError(env, -errno, "getsockopt");
  }
  pid = peerPid;
#endif
#else
  (void)uid;
  (void)gid;
  (void)pid;
  throw NotSupported(env, "getsockopt", "no peer-credential call on this platform");
#endif

  Napi::Object result = Napi::Object::New(env);
  result.Set("uid", uid);
  result.Set("gid", gid);
  result.Set("pid", pid);
  return result;
}

}  // namespace overseer
