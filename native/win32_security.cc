// Security descriptors read back as SDDL, the default pipe SDDL, and Wine detection.
#include "win32_util.h"  // first: windows.h, lean

#include <aclapi.h>

#include <string>

#include "args.h"
#include "errors.h"
#include "surface.h"

namespace overseer {

// The DACL of a path as SDDL. A pipe is opened as a client (READ_CONTROL only, identification
// impersonation), which its server sees as a connection that closes at once; a pipe whose
// instances are all busy is waited for up to a second. Any other path is read by name.
Napi::Value PipeSecurity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string display = ToPath(info[0], "path");
  std::wstring path = Widen(display);
  PSECURITY_DESCRIPTOR sd = nullptr;
  DWORD err;
  const char* syscall = "GetSecurityInfo";
  if (IsPipePath(path)) {
    HANDLE h = INVALID_HANDLE_VALUE;
    for (int attempt = 0; attempt < 2; attempt++) {
      h = CreateFileW(path.c_str(), READ_CONTROL, 0, nullptr, OPEN_EXISTING,
                      SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
      if (h != INVALID_HANDLE_VALUE || GetLastError() != ERROR_PIPE_BUSY || attempt == 1) break;
      WaitNamedPipeW(path.c_str(), 1000);
    }
    if (h == INVALID_HANDLE_VALUE) throw Win32Error(env, GetLastError(), "CreateFileW", display);
    UniqueHandle pipe(h);
    err = GetSecurityInfo(pipe.get(), SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, nullptr,
                          nullptr, &sd);
  } else {
    syscall = "GetNamedSecurityInfoW";
    err = GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                nullptr, nullptr, &sd);
  }
  if (err != ERROR_SUCCESS) throw Win32Error(env, err, syscall, display);
  std::wstring sddl;
  err = DaclToSddl(sd, &sddl);
  LocalFree(sd);
  if (err != 0) throw Win32Error(env, err, "ConvertSecurityDescriptorToStringSecurityDescriptorW", display);
  return Napi::String::New(env, Narrow(sddl));
}

Napi::Value DefaultSddl(const Napi::CallbackInfo& info) {
  std::wstring sddl;
  if (DWORD err = DefaultPipeSddl(&sddl)) throw Win32Error(info.Env(), err, "GetTokenInformation");
  return Napi::String::New(info.Env(), Narrow(sddl));
}

Napi::Value IsWine(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), RunningUnderWine());
}

}  // namespace overseer
