{
  "targets": [
    {
      "target_name": "overseer",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/errors.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LIBRARY": "libc++",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1 }
      },
      "conditions": [
        ["OS!='win'", {
          "sources": [
            "native/posix_util.cc",
            "native/posix_listen.cc",
            "native/posix_fd.cc",
            "native/posix_connect.cc",
            "native/posix_scm_rights.cc",
            "native/posix_peercred.cc",
            "native/posix_pdeathsig.cc",
            "native/posix_datagram.cc",
            "native/posix_reuseport.cc",
            "native/posix_reap.cc"
          ]
        }],
        ["OS=='win'", {
          "sources": [
            "native/win32_stubs.cc",
            "native/win32_util.cc",
            "native/win32_pipe_server.cc",
            "native/win32_pipe_client.cc",
            "native/win32_security.cc"
          ],
          "defines": ["_HAS_EXCEPTIONS=1", "WIN32_LEAN_AND_MEAN", "NOMINMAX"],
          "libraries": ["advapi32.lib"]
        }]
      ]
    }
  ]
}
