// The addon's surface, written once: every function it exports, as X("JavaScript name",
// C++ function). addon.cc registers these lists, win32_stubs.cc makes each POSIX function a
// coded refusal on Windows, and test/native-surface.test.ts checks both lists, and the built
// addon, against NativeBinding (src/os/native.ts), the binding's TypeScript type.
#ifndef OVERSEER_SURFACE_H
#define OVERSEER_SURFACE_H

#include <napi.h>

// Every build exports these. On Windows each one throws ENOTSUP (win32_stubs.cc).
#define OVERSEER_POSIX_FUNCTIONS(X)                                              \
  X("tcpListen", TcpListen)                           /* posix_listen.cc */      \
  X("unixListen", UnixListen)                         /* posix_listen.cc */      \
  X("describeFd", DescribeFd)                         /* posix_fd.cc */          \
  X("getCloexec", GetCloexec)                         /* posix_fd.cc */          \
  X("setCloexec", SetCloexec)                         /* posix_fd.cc */          \
  X("dup", Dup)                                       /* posix_fd.cc */          \
  X("close", Close)                                   /* posix_fd.cc */          \
  X("unixConnect", UnixConnect)                       /* posix_connect.cc */     \
  X("accept", Accept)                                 /* posix_connect.cc */     \
  X("sendFds", SendFds)                               /* posix_scm_rights.cc */  \
  X("recvFds", RecvFds)                               /* posix_scm_rights.cc */  \
  X("peerCredentials", PeerCredentials)               /* posix_peercred.cc */    \
  X("setParentDeathSignal", SetParentDeathSignal)     /* posix_pdeathsig.cc */   \
  X("killOnParentDeath", KillOnParentDeath)           /* posix_pdeathsig.cc */   \
  X("sendDatagram", SendDatagram)                     /* posix_datagram.cc */    \
  X("steerReuseportBySource", SteerReuseportBySource) /* posix_reuseport.cc */   \
  X("reapChild", ReapChild)                           /* posix_reap.cc */

// Windows builds only.
#define OVERSEER_WIN32_FUNCTIONS(X)                                              \
  X("pipeListen", PipeListen)                         /* win32_pipe_server.cc */ \
  X("pipeConnect", PipeConnect)                       /* win32_pipe_client.cc */ \
  X("pipeSecurity", PipeSecurity)                     /* win32_security.cc */    \
  X("defaultPipeSddl", DefaultSddl)                   /* win32_security.cc */    \
  X("isWine", IsWine)                                 /* win32_security.cc */

namespace overseer {

#define OVERSEER_DECLARE(name, function) Napi::Value function(const Napi::CallbackInfo& info);
OVERSEER_POSIX_FUNCTIONS(OVERSEER_DECLARE)
#ifdef _WIN32
OVERSEER_WIN32_FUNCTIONS(OVERSEER_DECLARE)
#endif
#undef OVERSEER_DECLARE

}  // namespace overseer

#endif
