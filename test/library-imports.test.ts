import * as fs from 'fs';
import * as path from 'path';

// The construct library is published with aws-cdk-lib and constructs as its only
// dependencies: what src/index.ts loads (the constants it reads from src/runtime/ included)
// must not load the AWS SDK, which only the Lambda bundles carry.

/** The packages a module loads at run time, through every relative import (type-only imports skipped). */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
      const spec = match[1];
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const target = path.resolve(path.dirname(file), spec);
      visit(fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts'));
    }
  };
  visit(entry);
  return packages;
}

test('the construct library loads aws-cdk-lib, constructs and Node.js built-ins only', () => {
  const packages = [...packagesLoadedBy(path.join(__dirname, '..', 'src', 'index.ts'))];
  expect(packages.filter((name) => !/^(aws-cdk-lib(\/.*)?|constructs|path|fs|node:.*)$/.test(name))).toEqual([]);
});

test('the check can fail: the doctor\'s handler loads the AWS SDK', () => {
  const packages = packagesLoadedBy(path.join(__dirname, '..', 'src', 'runtime', 'doctor-handler.ts'));
  expect([...packages]).toEqual(expect.arrayContaining(['@aws-sdk/client-dynamodb', '@aws-sdk/client-s3']));
});
