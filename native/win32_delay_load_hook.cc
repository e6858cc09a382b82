// Cross-compiled (mingw) builds only: the Node-API imports are delay-loaded from "node.exe",
// and this hook answers that load with the running executable, so the addon also loads in
// a renamed node.exe, a single-executable app or Electron. node-gyp's MSVC builds get the
// same hook from node-gyp itself (src/win_delay_load_hook.cc), so binding.gyp leaves this
// file out.
#if defined(__MINGW32__) && defined(OVERSEER_MINGW_DELAY_LOAD)

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <delayimp.h>
#include <string.h>

namespace {

FARPROC WINAPI LoadExeHook(unsigned int event, DelayLoadInfo* info) {
  if (event != dliNotePreLoadLibrary) return nullptr;
  if (_stricmp(info->szDll, "node.exe") != 0) return nullptr;
  HMODULE m = GetModuleHandleW(L"libnode.dll");
  if (m == nullptr) m = GetModuleHandleW(nullptr);
  return reinterpret_cast<FARPROC>(m);
}

}  // namespace

// Redeclares delayimp.h's extern "C" variable, now with a value.
PfnDliHook __pfnDliNotifyHook2 = LoadExeHook;

#endif
