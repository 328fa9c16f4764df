#!/usr/bin/env bash
# On the lent GPU machine: unpack node, point Dawn at the NVIDIA Vulkan driver, run the bench.
set -euo pipefail
D="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x /tmp/ift/node ]; then
  mkdir -p /tmp/ift && xz -dc "$D/node.xz" > /tmp/ift/node && chmod +x /tmp/ift/node
  tar -C /tmp/ift -xJf "$D/node_modules.tar.xz"
fi
export LD_LIBRARY_PATH="$D${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
cp "$D"/*.mjs /tmp/ift/
exec /tmp/ift/node "/tmp/ift/${IFT_SCRIPT:-bench.mjs}" "$@"
