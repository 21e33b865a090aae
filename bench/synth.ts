/**
 * Synth scale: time to synthesize an app with 1, 10 and 50 SplitStores versus the same
 * resources written by hand with aws-cdk-lib L2 constructs (bench/lib/synth-app.ts,
 * HandWrittenStore), as a ratio.
 *
 *   npx ts-node --transpile-only --project bench/tsconfig.json bench/synth.ts [--stores=1,10,50] [--reps=7] [--stores-per-stack=10]
 *
 * Each measurement is a fresh Node.js process (bench/lib/synth-app.ts); the kinds are
 * interleaved so they share the machine's noise; the table reports medians. Stores are
 * spread over stacks of at most --stores-per-stack (CloudFormation allows 500 resources
 * per stack, and a store has about 20). Nothing here is a test assertion.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchArgs } from './lib/args';
import { ROOT } from './lib/bundles';
import { machineHeader } from './lib/machine';
import { median, ratio } from './lib/stats';
import type { AppKind, SynthResult } from './lib/synth-app';
import { bytes, ms, renderTable, times } from './lib/table';

const COMMAND = 'npx ts-node --transpile-only --project bench/tsconfig.json bench/synth.ts';
const KINDS: readonly AppKind[] = ['construct', 'handwritten'];

function runOnce(kind: AppKind, stores: number, perStack: number, work: string): SynthResult {
  const outdir = fs.mkdtempSync(path.join(work, `${kind}-${stores}-`));
  try {
    const child = spawnSync(process.execPath, [
      '-r', 'ts-node/register/transpile-only', path.join(ROOT, 'bench', 'lib', 'synth-app.ts'),
      kind, String(stores), String(perStack), outdir,
    ], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'bench', 'tsconfig.json'), TS_NODE_TRANSPILE_ONLY: 'true' },
    });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as SynthResult;
    } catch {
      throw new Error(`synthesis of ${stores} ${kind} store(s) failed (exit ${child.status}):\n${child.stderr}`);
    }
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function main(): void {
  const args = new BenchArgs();
  const sizes = args.integers('stores', [1, 10, 50]);
  const reps = args.integer('reps', 7, 1);
  const perStack = args.integer('stores-per-stack', 10, 1);
  for (const asset of ['reader.lambda', 'reconciler.lambda']) {
    if (!fs.existsSync(path.join(ROOT, 'assets', asset, 'index.js'))) {
      throw new Error(`assets/${asset}/index.js is missing: run \`npx projen bundle\` first`);
    }
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'split-store-synth-'));
  const results = new Map<string, SynthResult[]>();
  try {
    // One warm-up per kind (file system cache, ts-node's first transpile), not recorded.
    for (const kind of KINDS) runOnce(kind, 1, perStack, work);
    for (let rep = 0; rep < reps; rep++) {
      for (const stores of sizes) {
        const order = rep % 2 === 0 ? KINDS : [...KINDS].reverse();
        for (const kind of order) {
          const key = `${kind}:${stores}`;
          results.set(key, [...(results.get(key) ?? []), runOnce(kind, stores, perStack, work)]);
        }
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  const total = (r: SynthResult) => r.constructMs + r.synthMs;
  const rows = sizes.map((stores) => {
    const construct = results.get(`construct:${stores}`)!;
    const hand = results.get(`handwritten:${stores}`)!;
    const count = (r: SynthResult) => Object.values(r.resources).reduce((a, b) => a + b, 0);
    return [
      String(stores), String(construct[0].stacks),
      String(count(construct[0])), String(count(hand[0])),
      bytes(construct[0].templateBytes), bytes(hand[0].templateBytes),
      ms(median(construct.map((r) => r.constructMs))), ms(median(construct.map((r) => r.synthMs))), ms(median(construct.map(total))),
      ms(median(hand.map((r) => r.constructMs))), ms(median(hand.map((r) => r.synthMs))), ms(median(hand.map(total))),
      times(ratio(median(construct.map(total)), median(hand.map(total)))),
    ];
  });

  console.log(machineHeader('Synth scale: SplitStore vs the same resources by hand', COMMAND + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '')));
  console.log(`- median of ${reps} fresh processes per cell, kinds interleaved; at most ${perStack} stores per stack`);
  console.log('- build = constructing the tree; synth = app.synth() (templates + asset staging); total = build + synth, in ms');
  console.log('- module loading (aws-cdk-lib, ts-node) happens before the clock starts and is excluded\n');
  console.log(renderTable([
    { header: 'stores', align: 'right' }, { header: 'stacks', align: 'right' },
    { header: 'resources (SplitStore)', align: 'right' }, { header: 'resources (by hand)', align: 'right' },
    { header: 'templates (SplitStore)', align: 'right' }, { header: 'templates (by hand)', align: 'right' },
    { header: 'SplitStore build', align: 'right' }, { header: 'SplitStore synth', align: 'right' }, { header: 'SplitStore total', align: 'right' },
    { header: 'by hand build', align: 'right' }, { header: 'by hand synth', align: 'right' }, { header: 'by hand total', align: 'right' },
    { header: 'ratio (total)', align: 'right' },
  ], rows));

  // What each kind creates for one store, so a reader can judge how fair the comparison is.
  const one = (kind: AppKind) => results.get(`${kind}:${sizes[0]}`)![0];
  const types = [...new Set([...Object.keys(one('construct').resources), ...Object.keys(one('handwritten').resources)])].sort();
  console.log(`\nResources created for ${sizes[0]} store(s), by type:\n`);
  console.log(renderTable(['CloudFormation type', { header: 'SplitStore', align: 'right' }, { header: 'by hand', align: 'right' }],
    types.map((t) => [t, String(one('construct').resources[t] ?? 0), String(one('handwritten').resources[t] ?? 0)])));
}

main();
