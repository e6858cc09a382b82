// Each native/*.cc concept registers its own functions on the exports object; addon.cc
// picks the set for the platform it is compiled for.
#ifndef OVERSEER_EXPORTS_H
#define OVERSEER_EXPORTS_H

#include <napi.h>

namespace overseer {

#ifdef _WIN32
void InitWin32(Napi::Env env, Napi::Object exports);  // win32_*.cc
#else
void InitListen(Napi::Env env, Napi::Object exports);      // tcpListen, unixListen
void InitFd(Napi::Env env, Napi::Object exports);          // describeFd, get/setCloexec, dup, close
void InitConnect(Napi::Env env, Napi::Object exports);     // unixConnect, accept
void InitScmRights(Napi::Env env, Napi::Object exports);   // sendFds, recvFds
void InitPeercred(Napi::Env env, Napi::Object exports);    // peerCredentials
void InitPdeathsig(Napi::Env env, Napi::Object exports);   // setParentDeathSignal
void InitDatagram(Napi::Env env, Napi::Object exports);    // sendDatagram
void InitReuseport(Napi::Env env, Napi::Object exports);   // steerReuseportBySource
void InitReap(Napi::Env env, Napi::Object exports);        // reapChild
#endif

}  // namespace overseer

#endif
