// Builds the gatehouse binary the tests run (e2e/.bin/gatehouse) from this
// checkout with the Go toolchain. `npm test` runs it first (pretest), so the
// tests always exercise the current source through the shipped command.
// Set GATEHOUSE_BIN to test an already built binary instead.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const e2eDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const repoDir = path.dirname(e2eDir);

if (process.env.GATEHOUSE_BIN) {
  console.log(`using GATEHOUSE_BIN=${process.env.GATEHOUSE_BIN}`);
} else {
  const out = path.join(e2eDir, '.bin', 'gatehouse');
  execFileSync('go', ['build', '-o', out, './cmd/gatehouse'], { cwd: repoDir, stdio: 'inherit' });
  console.log(`built ${path.relative(repoDir, out)}`);
}
