// Module-resolution hook for test/cli/lazy-commands.test.ts: reports every package (not a Node
// builtin, not a relative path) that Assay's own code imports; the loader's own imports are left out.
import { isBuiltin } from 'node:module';

// Plain (not async) so it serves both module.registerHooks (in-thread, Node >= 22.15, which tsx uses
// there: off-thread hooks never see its resolutions) and module.register (Node 20).
export function resolve(specifier, context, next) {
  const from = context.parentURL ?? '';
  if (from.startsWith('file:') && !from.includes('/node_modules/') && !/^(\.|\/|file:|data:|#)/.test(specifier) && !isBuiltin(specifier)) {
    process.stderr.write(`PACKAGE ${specifier}\n`);
  }
  return next(specifier, context);
}
