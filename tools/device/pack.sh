#!/usr/bin/env bash
# Packs the benchmark for a lent GPU machine that has no Node.js and no npm registry: a bundled bench.mjs, this
# machine's node binary (xz), Dawn (webgpu, linux-x64 only), onnxruntime-node (linux-x64 CPU) and a Vulkan
# loader. Output: .device/ (git-ignored), ~45 MB. On the device: `bash .device/run.sh [bench args]`.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .device && mkdir -p .device/node_modules
npx vite build --config tools/device/vite.config.ts --logLevel warn
xz -T0 -3 -c "$(command -v node)" > .device/node.xz
copy_pkg() { # package, then paths inside it to keep (besides package.json and *.js at its top level)
  local p=$1; shift; mkdir -p ".device/node_modules/$p"
  (cd "node_modules/$p" && cp --parents package.json $(ls *.js *.mjs 2>/dev/null) "$@" "../../.device/node_modules/$p/" 2>/dev/null || true)
  (cd "node_modules/$p" && for f in "$@"; do cp -r --parents "$f" "$OLDPWD/.device/node_modules/$p/"; done)
}
copy_pkg webgpu dist/linux-x64
copy_pkg onnxruntime-common dist
copy_pkg onnxruntime-node dist bin/napi-v6/linux/x64
cp /usr/lib/chromium/libvulkan.so.1 .device/
tar -C .device -cf - node_modules | xz -T0 -6 > .device/node_modules.tar.xz && rm -rf .device/node_modules
cp tools/device/run.sh .device/
du -sh .device
