/**
 * The long randomized consistency run: 100,000 operations (configurable) of the seeded
 * workload of test/e2e/consistency.e2e.test.ts, under injected faults, checked against
 * invariants I1 to I5. It runs in rounds of `--ops-per-run` operations, each on a fresh table
 * and bucket (so memory stays flat), each with its own seed (`--seed` + round).
 *
 *   npx projen bench:consistency [--ops=100000] [--ops-per-run=2000] [--seed=<first seed>]
 *     [--clients=6] [--lambda-clients=1] [--items=4] [--fault-rate=1] [--stop-on-violation]
 *
 * Prints progress (operations done, violations so far) and a summary; exits 1 when any
 * invariant was violated, with the seed of every failing round and how to replay it.
 * Nothing here is timed as a verdict.
 */
import { performance } from 'node:perf_hooks';
import { BenchArgs } from './lib/args';
import { machineHeader } from './lib/machine';
import type { Violation } from '../test/support/consistency/checker';
import { formatViolations, runConsistency, RunResult, startConsistencyRig, summarizeViolations } from '../test/support/consistency/driver';

const COMMAND = 'npx projen bench:consistency';

async function main(): Promise<number> {
  const args = new BenchArgs();
  const total = args.integer('ops', 100_000, 1);
  const perRun = args.integer('ops-per-run', 2_000, 1);
  const firstSeed = args.integer('seed', Math.floor(Math.random() * 1_000_000), 0);
  const clients = args.integer('clients', 6, 1);
  const lambdaClients = args.integer('lambda-clients', 1, 0);
  const items = args.integer('items', 4, 1);
  const faultRate = args.number('fault-rate', 1, 0);
  const stopOnViolation = args.flag('stop-on-violation');

  console.log(machineHeader('Randomized consistency run (I1 to I5 under injected faults)', `${COMMAND} ${process.argv.slice(2).join(' ')}`.trim()));
  console.log(`- ${total} operations in rounds of ${perRun}, seeds ${firstSeed}.., ${clients} clients (${lambdaClients} through the reader bundle), `
    + `${items} items, fault rate x${faultRate}\n`);
  process.stderr.write('consistency: starting DynamoDB Local and the S3 server...\n');
  const rig = await startConsistencyRig();
  const started = performance.now();
  const failed: RunResult[] = [];
  const violations: Violation[] = [];
  const faults: Record<string, number> = {};
  let done = 0;
  let rounds = 0;
  try {
    for (let seed = firstSeed; done < total; seed++) {
      const ops = Math.min(perRun, total - done);
      const base = done;
      let lastReport = 0;
      const result = await runConsistency(rig, {
        seed,
        ops,
        clients,
        lambdaClients,
        items,
        faultRate,
        // Every round's store goes, or memory would grow with each failing round.
        keepFailedStore: false,
        onProgress: (n) => {
          const now = performance.now();
          if (now - lastReport < 5_000 && n < ops) return;
          lastReport = now;
          process.stderr.write(`  ${base + n}/${total} operations, ${violations.length} violation(s) so far (${summarizeViolations(violations)})\n`);
        },
      });
      rounds += 1;
      done += result.ops.length;
      violations.push(...result.violations);
      for (const [kind, n] of Object.entries(result.faults)) faults[kind] = (faults[kind] ?? 0) + n;
      console.log(`round ${rounds}, seed ${seed}: ${result.ops.length} operations in ${Math.round(result.durationMs / 1000)} s, `
        + `${result.streamRecords} commits, violations: ${summarizeViolations(result.violations)}`);
      if (result.violations.length > 0) {
        failed.push(result);
        console.log(formatViolations(result, `${COMMAND} --seed=${seed} --ops=${ops} --clients=${clients} --lambda-clients=${lambdaClients} --items=${items} --fault-rate=${faultRate}`));
        if (stopOnViolation) break;
      }
    }
  } finally {
    await rig.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log('\n## Summary\n');
  console.log(`- operations: ${done} in ${rounds} rounds, ${Math.round(seconds)} s (${Math.round(done / seconds)} operations/s on this machine)`);
  console.log(`- faults injected: ${Object.entries(faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  console.log(`- violations: ${summarizeViolations(violations)}`);
  console.log(`- failing seeds: ${failed.map((r) => r.seed).join(', ') || 'none'}`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
