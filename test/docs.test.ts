import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

// Docs that travel: the README and docs/ are read in the npm package (node_modules, the
// registry's page), not only in the repository. Every relative link of a shipped Markdown
// file must point at a file the package ships; anything else is linked by absolute URL.

const ROOT = path.join(__dirname, '..');

/** The files `npm pack` would put in the package (no build needed: lib/ is not linked). */
function packedFiles(): string[] {
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack --dry-run failed: ${pack.stderr}`);
  return JSON.parse(pack.stdout)[0].files.map((file: { path: string }) => file.path);
}

/** Relative link targets of a Markdown file (images included), without anchors. */
function relativeLinks(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0]);
}

describe('docs that travel', () => {
  const files = packedFiles();

  test('the package ships the README, API.md and docs/', () => {
    for (const file of ['README.md', 'API.md', 'docs/PROTOCOL.md', 'docs/RESTORE.md', 'docs/BENCHMARKS.md', 'docs/COST.md', 'docs/cost-chart.svg']) {
      expect(files).toContain(file);
    }
  });

  test('the package ships nothing of the repository\'s tooling', () => {
    for (const prefix of ['test/', 'bench/', 'examples/', '.ci/', '.tools/', 'src/']) {
      expect(files.filter((file) => file.startsWith(prefix))).toEqual([]);
    }
  });

  test('every relative link of a shipped Markdown file points at a shipped file', () => {
    const markdown = files.filter((file) => file.endsWith('.md'));
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdown) {
      for (const target of relativeLinks(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
        checked++;
        if (!files.includes(resolved)) broken.push(`${file} -> ${target}`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });
});
