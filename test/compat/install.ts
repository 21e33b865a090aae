/**
 * Installs the newest aws-cdk-lib, constructs and cdk-nag 2 and 3 of the compatibility matrix
 * (test/compat/package.json and its lockfile, exact versions) into .tools/compat, with `npm ci`.
 * Does nothing when .tools/compat already holds exactly that lockfile's install.
 *
 * Run by `npx projen test:compat`; by hand: `npx ts-node --transpile-only test/compat/install.ts`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const SOURCE = path.join(ROOT, 'test', 'compat');
const TARGET = path.join(ROOT, '.tools', 'compat');
const FILES = ['package.json', 'package-lock.json'];

function read(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

function installed(): boolean {
  // npm ci writes node_modules/.package-lock.json last: its presence marks a finished install.
  return FILES.every((file) => read(path.join(TARGET, file)) === read(path.join(SOURCE, file)))
    && fs.existsSync(path.join(TARGET, 'node_modules', '.package-lock.json'));
}

function main(): void {
  if (installed()) {
    console.log(`compat: ${path.relative(ROOT, TARGET)} is up to date with test/compat/package-lock.json`);
  } else {
    fs.rmSync(TARGET, { recursive: true, force: true });
    fs.mkdirSync(TARGET, { recursive: true });
    for (const file of FILES) fs.copyFileSync(path.join(SOURCE, file), path.join(TARGET, file));
    console.log(`compat: npm ci in ${path.relative(ROOT, TARGET)}`);
    const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: TARGET, stdio: 'inherit' });
    if (npm.status !== 0) {
      throw new Error(`compat: npm ci in ${TARGET} failed (exit ${npm.status ?? npm.signal}); see its output above`);
    }
  }
  const dependencies: Record<string, string> = JSON.parse(fs.readFileSync(path.join(SOURCE, 'package.json'), 'utf8')).dependencies;
  for (const name of Object.keys(dependencies)) {
    const version = JSON.parse(fs.readFileSync(path.join(TARGET, 'node_modules', name, 'package.json'), 'utf8')).version;
    console.log(`compat: ${name} ${version}`);
  }
}

main();
