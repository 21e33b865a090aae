/**
 * Builds the Lambda bundles the way `npx projen bundle` does, with variations, so the
 * cold-start benchmark compares builds that differ in exactly one setting.
 *
 * The esbuild arguments are read from the projen task definitions (.projen/tasks.json,
 * tasks `bundle:<name>.lambda`), not copied here, so the "bundled + minified" build is
 * byte-for-byte what `npx projen bundle` writes to assets/<name>.lambda/index.js.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (bench/lib/ is two levels down). */
export const ROOT = path.resolve(__dirname, '..', '..');

/** A Lambda bundle task of the project. */
export interface LambdaBundleTask {
  /** Asset name, e.g. 'reader.lambda'. */
  readonly name: string;
  /** esbuild arguments of the projen task, `--outfile` included. */
  readonly esbuildArgs: readonly string[];
}

/** The project's Lambda bundle tasks, from .projen/tasks.json. */
export function lambdaBundleTasks(root: string = ROOT): LambdaBundleTask[] {
  const tasks = JSON.parse(fs.readFileSync(path.join(root, '.projen', 'tasks.json'), 'utf8')).tasks as Record<string, {
    steps?: { execArgs?: string[] }[];
  }>;
  const result: LambdaBundleTask[] = [];
  for (const [taskName, task] of Object.entries(tasks)) {
    const match = /^bundle:(.+\.lambda)$/.exec(taskName);
    if (!match) continue;
    const step = task.steps?.find((s) => s.execArgs?.[0] === 'esbuild');
    if (!step?.execArgs) throw new Error(`task ${taskName} has no esbuild step: the cold-start benchmark cannot rebuild it`);
    result.push({ name: match[1], esbuildArgs: step.execArgs.slice(1) });
  }
  if (result.length === 0) throw new Error('no bundle:*.lambda task in .projen/tasks.json');
  return result.sort((a, b) => a.name.localeCompare(b.name));
}

/** How a variant changes the projen task's esbuild arguments. */
export interface BuildVariant {
  /** Short id, used as a directory name. */
  readonly id: string;
  /** What the table calls it. */
  readonly label: string;
  /** Keep --minify (as the projen task has it). */
  readonly minify: boolean;
  /** Leave the AWS SDK v3 (`@aws-sdk/*`, `@smithy/*`) out of the bundle, loaded at run time from node_modules. */
  readonly sdkExternal: boolean;
}

/** The builds the cold-start benchmark compares. The first is the project's current default. */
export const VARIANTS: readonly BuildVariant[] = [
  { id: 'bundled-minified', label: 'SDK bundled + minified (current default)', minify: true, sdkExternal: false },
  { id: 'external-minified', label: 'SDK external (node_modules) + minified', minify: true, sdkExternal: true },
  { id: 'bundled-plain', label: 'SDK bundled, not minified', minify: false, sdkExternal: false },
];

/**
 * Builds `task` as `variant` into `outDir/<variant.id>/<task.name>/index.js` with the
 * project's esbuild (node_modules/.bin/esbuild), and returns the file's path.
 */
export function buildVariant(task: LambdaBundleTask, variant: BuildVariant, outDir: string, root: string = ROOT): string {
  const outfile = path.join(outDir, variant.id, task.name, 'index.js');
  const args = task.esbuildArgs
    .filter((arg) => !arg.startsWith('--outfile=') && !arg.startsWith('--watch'))
    .filter((arg) => variant.minify || arg !== '--minify');
  if (variant.minify && !args.includes('--minify')) args.push('--minify');
  if (variant.sdkExternal) args.push('--external:@aws-sdk/*', '--external:@smithy/*');
  args.push(`--outfile=${outfile}`, '--log-level=warning');
  execFileSync(path.join(root, 'node_modules', '.bin', 'esbuild'), args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return outfile;
}
