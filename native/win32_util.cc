#include "win32_util.h"

#include <sddl.h>
#include <uv.h>

#include <memory>

#include "errors.h"

namespace overseer {

namespace {

template <typename Fn>
Fn HostProc(const char* name) {
  // GetModuleHandle(NULL) is the executable that loaded us; a node built as a DLL
  // ('vcbuild.bat dll') exports libuv from libnode.dll instead.
  HMODULE lib = GetModuleHandleW(L"libnode.dll");
  FARPROC proc = lib != nullptr ? GetProcAddress(lib, name) : nullptr;
  if (proc == nullptr) proc = GetProcAddress(GetModuleHandleW(nullptr), name);
  return reinterpret_cast<Fn>(reinterpret_cast<void*>(proc));
}

using TranslateFn = int (*)(int);
using OpenOsfHandleFn = int (*)(HANDLE);

TranslateFn Translate() {
  static TranslateFn fn = HostProc<TranslateFn>("uv_translate_sys_error");
  return fn;
}

OpenOsfHandleFn OpenOsf() {
  static OpenOsfHandleFn fn = HostProc<OpenOsfHandleFn>("uv_open_osfhandle");
  return fn;
}

// Used only when the host does not export uv_translate_sys_error.
int FallbackTranslate(DWORD err) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME: return UV_ENOENT;
    case ERROR_PIPE_BUSY: return UV_EBUSY;
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED: return UV_EPIPE;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_FUNCTION:
    case ERROR_INVALID_SECURITY_DESCR:
    case ERROR_INVALID_ACL:
    case ERROR_INVALID_SID: return UV_EINVAL;
    case ERROR_OPERATION_ABORTED: return UV_ECANCELED;
    case ERROR_SEM_TIMEOUT:
    case WAIT_TIMEOUT: return UV_ETIMEDOUT;
    case ERROR_INVALID_HANDLE: return UV_EBADF;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: return UV_ENOMEM;
    case ERROR_TOO_MANY_OPEN_FILES: return UV_EMFILE;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED: return UV_ENOTSUP;
    case ERROR_PRIVILEGE_NOT_HELD: return UV_EPERM;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS: return UV_EEXIST;
    default: return UV_UNKNOWN;
  }
}

}  // namespace

std::wstring Widen(const std::string& utf8) {
  if (utf8.empty()) return std::wstring();
  int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), &out[0], n);
  return out;
}

std::string Narrow(const std::wstring& utf16) {
  if (utf16.empty()) return std::string();
  int n = WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), nullptr, 0,
                              nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), &out[0], n, nullptr,
                      nullptr);
  return out;
}

int Win32ToUv(DWORD win32Error) {
  if (win32Error == ERROR_ACCESS_DENIED) return UV_EACCES;
  if (TranslateFn fn = Translate()) {
    int uvErr = fn(static_cast<int>(win32Error));
    if (uvErr != UV_UNKNOWN) return uvErr;
  }
  return FallbackTranslate(win32Error);
}

Napi::Error Win32Error(Napi::Env env, DWORD win32Error, const char* syscall, const std::string& detail) {
  Napi::Error err = SysError(env, Win32ToUv(win32Error), syscall, detail);
  err.Set("winerror", Napi::Number::New(env, static_cast<double>(win32Error)));
  return err;
}

bool HostCanOpenOsfHandle() {
  return OpenOsf() != nullptr;
}

int OpenOsfHandle(HANDLE handle) {
  OpenOsfHandleFn fn = OpenOsf();
  return fn != nullptr ? fn(handle) : -1;
}

bool RunningUnderWine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

bool IsPipePath(const std::wstring& path) {
  static const wchar_t kPrefix[] = L"\\\\.\\pipe\\";
  const size_t n = sizeof kPrefix / sizeof kPrefix[0] - 1;
  if (path.size() <= n) return false;
  for (size_t i = 0; i < n; i++) {
    wchar_t c = path[i];
    wchar_t want = kPrefix[i];
    if (i == 2 && c == L'?') continue;  // \\?\pipe\ is the same namespace
    if (c >= L'A' && c <= L'Z') c = static_cast<wchar_t>(c - L'A' + L'a');
    if (c != want) return false;
  }
  return true;
}

DWORD SecurityDescriptor::FromSddl(const std::wstring& sddl) {
  if (sd_ != nullptr) {
    LocalFree(sd_);
    sd_ = nullptr;
  }
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &sd_, nullptr)) {
    sd_ = nullptr;
    return GetLastError();
  }
  return 0;
}

bool SecurityDescriptor::HasDacl() const {
  BOOL present = FALSE;
  BOOL defaulted = FALSE;
  PACL dacl = nullptr;
  if (sd_ == nullptr || !GetSecurityDescriptorDacl(sd_, &present, &dacl, &defaulted)) return false;
  return present && dacl != nullptr;
}

DWORD DaclToSddl(PSECURITY_DESCRIPTOR sd, std::wstring* out) {
  LPWSTR text = nullptr;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION,
                                                            &text, nullptr)) {
    return GetLastError();
  }
  out->assign(text);
  LocalFree(text);
  return 0;
}

DWORD DefaultPipeSddl(std::wstring* out) {
  HANDLE rawToken = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &rawToken)) return GetLastError();
  UniqueHandle token(rawToken);

  DWORD size = 0;
  GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  if (size == 0) return GetLastError();
  std::unique_ptr<BYTE[]> buffer(new BYTE[size]);
  if (!GetTokenInformation(token.get(), TokenUser, buffer.get(), size, &size)) return GetLastError();
  PSID user = reinterpret_cast<TOKEN_USER*>(buffer.get())->User.Sid;

  std::wstring sddl = L"D:P";
  // A service running as SYSTEM needs no ACE of its own: SYSTEM is always listed.
  if (!IsWellKnownSid(user, WinLocalSystemSid)) {
    LPWSTR userText = nullptr;
    if (!ConvertSidToStringSidW(user, &userText)) return GetLastError();
    sddl += L"(A;;FA;;;";
    sddl += userText;
    sddl += L")";
    LocalFree(userText);
  }
  sddl += L"(A;;FA;;;SY)(A;;FA;;;BA)";

  // Round-trip it, so the string is the canonical one Windows prints back (a well-known
  // account such as the built-in Administrator comes back as its alias, e.g. "LA").
  SecurityDescriptor sd;
  if (DWORD err = sd.FromSddl(sddl)) return err;
  return DaclToSddl(sd.get(), out);
}

}  // namespace overseer
