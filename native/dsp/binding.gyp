{
  "targets": [
    {
      "target_name": "<(module_name)",
      "sources": ["src/addon.cc", "src/udp-socket.cc", "src/media-timer.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "libraries": ["-lspeexdsp", "-ldl"],
      "defines": ["NAPI_VERSION=<(napi_build_version)", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O2"]
    },
    {
      "target_name": "action_after_build",
      "type": "none",
      "dependencies": ["<(module_name)"],
      "copies": [{ "files": ["<(PRODUCT_DIR)/<(module_name).node"], "destination": "<(module_path)" }]
    }
  ]
}
