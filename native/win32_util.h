// Windows helpers shared by the win32_*.cc files: UTF-16 strings, Win32 errors as coded JS
// errors, the libuv functions the host executable exports, and security descriptors.
#ifndef OVERSEER_WIN32_UTIL_H
#define OVERSEER_WIN32_UTIL_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <napi.h>

#include <string>

namespace overseer {

std::wstring Widen(const std::string& utf8);
std::string Narrow(const std::wstring& utf16);

// A Win32 error (GetLastError()) as a libuv error number: libuv's own translation,
// resolved from the host executable, with ERROR_ACCESS_DENIED reported as EACCES (as a
// unix socket's permission bits are on POSIX) and a small built-in table as fallback.
int Win32ToUv(DWORD win32Error);

// SysError (errors.h) for a Win32 error; `winerror` carries the raw Win32 number.
Napi::Error Win32Error(Napi::Env env, DWORD win32Error, const char* syscall,
                       const std::string& detail = std::string());

// uv_open_osfhandle from the host executable (node.exe, electron.exe, a single-executable
// app), so the fd lands in the host's own CRT fd table, which is the one libuv reads.
// Returns -1 when it fails or the host does not export it.
int OpenOsfHandle(HANDLE handle);
bool HostCanOpenOsfHandle();

// True when running under Wine (ntdll exports wine_get_version).
bool RunningUnderWine();

// True for \\.\pipe\<name> and \\?\pipe\<name> (case-insensitive).
bool IsPipePath(const std::wstring& path);

// A self-relative security descriptor made from SDDL, freed with LocalFree.
class SecurityDescriptor {
 public:
  SecurityDescriptor() = default;
  SecurityDescriptor(const SecurityDescriptor&) = delete;
  SecurityDescriptor& operator=(const SecurityDescriptor&) = delete;
  ~SecurityDescriptor() {
    if (sd_ != nullptr) LocalFree(sd_);
  }
  // 0 or a Win32 error.
  DWORD FromSddl(const std::wstring& sddl);
  PSECURITY_DESCRIPTOR get() const { return sd_; }
  // True when the descriptor carries a DACL (a NULL DACL would allow everyone).
  bool HasDacl() const;

 private:
  PSECURITY_DESCRIPTOR sd_ = nullptr;
};

// The DACL part of a descriptor as SDDL ("D:P(A;;FA;;;SY)..."); 0 or a Win32 error.
DWORD DaclToSddl(PSECURITY_DESCRIPTOR sd, std::wstring* out);

// The default pipe SDDL: a protected DACL granting FILE_ALL_ACCESS to the process token's
// user, SYSTEM and Administrators, in the canonical form Windows prints back.
DWORD DefaultPipeSddl(std::wstring* out);

// An owned HANDLE (INVALID_HANDLE_VALUE when empty).
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(HANDLE h) : h_(h) {}
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { reset(); }
  HANDLE get() const { return h_; }
  bool valid() const { return h_ != INVALID_HANDLE_VALUE && h_ != nullptr; }
  HANDLE release() {
    HANDLE h = h_;
    h_ = INVALID_HANDLE_VALUE;
    return h;
  }
  void reset(HANDLE h = INVALID_HANDLE_VALUE) {
    if (valid()) CloseHandle(h_);
    h_ = h;
  }

 private:
  HANDLE h_ = INVALID_HANDLE_VALUE;
};

}  // namespace overseer

#endif
