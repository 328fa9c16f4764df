// What the GPU and browser suites need from the machine, and what to do when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// IFT_LAB_SWIFTSHADER_ICD: where a distribution keeps it elsewhere (tests point it at nothing to play a machine without it).
const SWIFTSHADER_ICD = process.env.IFT_LAB_SWIFTSHADER_ICD || '/usr/lib/chromium/vk_swiftshader_icd.json';
const CHROMIUM_LIBS = '/usr/lib/chromium';

const INSTALL =
  'Install it with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium\n' +
  '(Debian/Ubuntu; it brings the SwiftShader software Vulkan driver that the GPU tests use when the machine has no GPU).';

/** The environment for Dawn-in-Node: the user's own Vulkan driver if they set one, else SwiftShader. */
export function gpuEnv() {
  const env = { ...process.env };
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.IFT_LAB_SYSTEM_VULKAN) return { env };
  if (!existsSync(SWIFTSHADER_ICD)) {
    return {
      env,
      problem:
        `The GPU test suite needs a Vulkan driver for Dawn, and ${SWIFTSHADER_ICD} is missing.\n${INSTALL}\n` +
        'On a machine with a real GPU and Vulkan installed, set IFT_LAB_SYSTEM_VULKAN=1 to use it instead.',
    };
  }
  env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  // Chromium ships its own libvulkan.so.1 loader; use it where Debian's libvulkan1 is absent.
  env.LD_LIBRARY_PATH = [env.LD_LIBRARY_PATH, CHROMIUM_LIBS].filter(Boolean).join(delimiter);
  return { env };
}

/** Vulkan drivers installed on the system (the loader's standard folders), lavapipe aside (Dawn refuses it). */
export function systemVulkanDrivers() {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json') && !/lvp|lavapipe/i.test(f)).map((f) => `${d}/${f}`) : []));
}

/**
 * The environment for the ift-lab command, which never fails for want of a GPU: the user's own driver
 * variables, else the system's Vulkan drivers (found by the loader itself), else SwiftShader where Chromium
 * brought it, else none — the engine then runs on the CPU backend (src/engine/backend.ts says why).
 */
export function cliGpuEnv() {
  const env = { ...process.env };
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.IFT_LAB_SYSTEM_VULKAN) return { env, driver: 'yours' };
  if (systemVulkanDrivers().length) return { env, driver: 'system' };
  if (!existsSync(SWIFTSHADER_ICD)) return { env, driver: null };
  env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  env.LD_LIBRARY_PATH = [env.LD_LIBRARY_PATH, CHROMIUM_LIBS].filter(Boolean).join(delimiter);
  return { env, driver: 'swiftshader' };
}

/** What the ift-lab command says when WebGPU is asked for (--device webgpu) and no Vulkan driver was found. */
export function cliGpuProblem() {
  return (
    'No Vulkan driver for WebGPU in Node (Dawn) was found on this machine.\n' +
    "Install your GPU's Vulkan driver (or Debian's chromium, which brings the SwiftShader software driver: " +
    'sudo apt-get install -y --no-install-recommends chromium), or leave --device at auto (or cpu): the CPU backend needs no driver.'
  );
}

export function chromiumProblem() {
  if (existsSync(CHROMIUM)) return null;
  return `The browser test suite needs Chromium at ${CHROMIUM} (or set CHROMIUM_PATH).\n${INSTALL}`;
}

/** The unit suite checks the exported recipe's Python against the lab (tests/python); it needs python3 ≥ 3.9. */
export function pythonProblem() {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.version_info >= (3, 9))'], { encoding: 'utf8' });
  if (!r.error && r.status === 0 && r.stdout.trim() === 'True') return null;
  const found = r.error ? 'python3 is not on the PATH' : `python3 is older than 3.9 (${(r.stdout || r.stderr).trim()})`;
  return (
    `The unit suite runs the recipe's Python tests (tests/python), and ${found}.\n` +
    'Install it with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends python3\n' +
    '(Debian/Ubuntu; macOS: brew install python). Only the standard library is needed (numpy is used when present).'
  );
}
