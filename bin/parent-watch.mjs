// The re-run child of bin/ift-lab.mjs ends with its parent: if the parent is killed (even with kill -9, which
// it cannot forward), the child sees its parent change and exits instead of training on unattended.
export function exitWithParent(parentPid, { intervalMs = 500, code = 137 } = {}) {
  if (!Number.isInteger(parentPid) || parentPid <= 0) return;
  const t = setInterval(() => {
    if (process.ppid !== parentPid) {
      process.stderr.write(`ift-lab: the launching process (pid ${parentPid}) is gone; stopping (checkpoints are kept; run the same command again to resume).\n`);
      process.exit(code);
    }
  }, intervalMs);
  t.unref();
}
