import * as fs from 'fs';
import * as path from 'path';

// Proves which aws-cdk-lib, constructs and cdk-nag a leg of the compatibility matrix loaded
// (npx projen test:compat sets SPLIT_STORE_COMPAT_LEG): the floor is the project's own
// devDependencies, the newest is test/compat/package.json, installed in .tools/compat.

const ROOT = path.join(__dirname, '..', '..');
const leg = process.env.SPLIT_STORE_COMPAT_LEG;

function versionOf(name: string): { version: string; dir: string } {
  // Resolved like src/ resolves it: through the jest config of the leg (moduleNameMapper).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version: string = require(`${name}/package.json`).version;
  const dir = path.dirname(require.resolve(`${name}/package.json`));
  return { version, dir: path.relative(ROOT, dir) };
}

function pinned(file: string, section: 'dependencies' | 'devDependencies', name: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'))[section][name];
}

test('runs in a leg of the matrix (SPLIT_STORE_COMPAT_LEG is floor or newest)', () => {
  expect(['floor', 'newest']).toContain(leg);
});

test('loads the aws-cdk-lib, constructs and cdk-nag 2 of its leg', () => {
  // GIVEN
  const loaded = {
    'aws-cdk-lib': versionOf('aws-cdk-lib'),
    'constructs': versionOf('constructs'),
    'cdk-nag': versionOf('cdk-nag'),
  };
  console.info(`compat leg ${leg}: ${Object.entries(loaded).map(([name, v]) => `${name} ${v.version} (${v.dir})`).join(', ')}; ` +
    `JSII_DEPRECATED=${process.env.JSII_DEPRECATED}`);
  // THEN
  expect(process.env.JSII_DEPRECATED).toBe('fail');
  if (leg === 'newest') {
    for (const name of ['aws-cdk-lib', 'constructs', 'cdk-nag'] as const) {
      expect(loaded[name].version).toBe(pinned('test/compat/package.json', 'dependencies', name));
      expect(loaded[name].dir).toBe(path.join('.tools', 'compat', 'node_modules', name));
    }
  } else {
    expect(loaded['aws-cdk-lib'].version).toBe(pinned('package.json', 'devDependencies', 'aws-cdk-lib'));
    expect(loaded.constructs.version).toBe(pinned('package.json', 'devDependencies', 'constructs'));
    expect(loaded['cdk-nag'].version).toMatch(/^2\./);
    for (const name of ['aws-cdk-lib', 'constructs', 'cdk-nag'] as const) {
      expect(loaded[name].dir).toBe(path.join('node_modules', name));
    }
  }
});
