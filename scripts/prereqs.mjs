// What the GPU and browser suites need from the machine, and what to do when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
