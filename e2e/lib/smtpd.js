// A real SMTP server for the browser tests: the same aiosmtpd script the Go
// tests use (internal/mail/smtptest/smtpd.py, Debian's python3-aiosmtpd),
// on a free loopback port, saving every message to a directory. A missing
// aiosmtpd fails the test: scripts/test.sh installs it.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './gatehouse.js';

const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const SCRIPT = path.join(root, 'internal', 'mail', 'smtptest', 'smtpd.py');

/** Decodes a quoted-printable body (soft line breaks and =XX escapes). */
export function decodeQP(s) {
  const bytes = Buffer.from(s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return bytes.toString('utf8');
}

export async function startSMTP() {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-smtp-'));
  const port = await freePort();
  const proc = spawn('/usr/bin/python3', [SCRIPT, '--port', String(port), '--dir', dir, '--mode', 'none'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { if (String(d).includes('READY')) resolve(); });
    proc.once('exit', (code) => reject(new Error(`aiosmtpd exited (${code}): ${err} (apt-get install -y python3-aiosmtpd)`)));
  });
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    port,
    /** The messages received so far, as raw text, in order. */
    async messages() {
      const names = (await readdir(dir)).filter((n) => n.endsWith('.eml')).sort();
      return Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8')));
    },
    async waitFor(n, timeout = 15_000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const ms = await this.messages();
        if (ms.length >= n) return ms;
        if (Date.now() > deadline) throw new Error(`waited for ${n} message(s), have ${ms.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      proc.stdin.end();
      await new Promise((r) => { if (proc.exitCode !== null) r(); else proc.once('exit', r); });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
