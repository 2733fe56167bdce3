// A clean first install: npm knows every setting in .npmrc (no "Unknown project config" warning on
// every npm command), and every dependency's install script is reviewed in package.json's
// allowScripts: onnxruntime-node's is denied (it fetches CUDA binaries from outside the npm registry;
// the CPU runtime ships in the package).
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };

describe('npm setup', () => {
  it('npm reads .npmrc without a warning', () => {
    const r = spawnSync('npm', ['config', 'get', 'fund'], { encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/warn/i);
    expect(fs.readFileSync('.npmrc', 'utf8')).not.toContain('onnxruntime');
  });

  it('every dependency install script is reviewed; onnxruntime-node\'s is denied', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([p, v]) => p && v.hasInstallScript)
      .map(([p]) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts).toContain('onnxruntime-node');
    for (const name of new Set(withScripts)) expect(typeof pkg.allowScripts?.[name]).toBe('boolean');
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
  });
});
