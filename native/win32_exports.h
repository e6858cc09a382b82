// The Windows-only concepts, registered by InitWin32 (win32_stubs.cc).
#ifndef OVERSEER_WIN32_EXPORTS_H
#define OVERSEER_WIN32_EXPORTS_H

#include <napi.h>

namespace overseer {

void InitWin32PipeServer(Napi::Env env, Napi::Object exports);  // pipeListen
void InitWin32PipeClient(Napi::Env env, Napi::Object exports);  // pipeConnect
void InitWin32Security(Napi::Env env, Napi::Object exports);    // pipeSecurity, defaultPipeSddl, isWine

}  // namespace overseer

#endif
