// Runs `gatehouse demo`: the AWS sandbox and Gatehouse on embedded SQLite,
// with the administrator's half of the Amazon Connect story done through
// the API. Both listen on free loopback ports; the demo writes
// DIR/demo.json, which start() returns with the process.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binaryPath } from './gatehouse.js';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export class Demo {
  constructor({ proc, dir, info, logs }) {
    this.proc = proc;
    this.dir = dir;
    this.info = info;
    this.logs = logs;
    this.url = info.gatehouse_url;
  }

  /** Starts the demo and waits for demo.json (written once it is ready). */
  static async start() {
    const bin = binaryPath();
    try {
      await access(bin);
    } catch {
      throw new Error(`${bin} does not exist: run "npm test" (its pretest builds it) or "node lib/build.js"`);
    }
    let lastErr;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-demo-'));
      const [gp, sp] = [await freePort(), await freePort()];
      const logs = [];
      const proc = spawn(bin, ['demo', '--data', dir, '--listen', `127.0.0.1:${gp}`, '--sandbox-addr', `127.0.0.1:${sp}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout.on('data', (d) => logs.push(d.toString()));
      proc.stderr.on('data', (d) => logs.push(d.toString()));
      const killOnExit = () => proc.kill('SIGKILL');
      process.once('exit', killOnExit);
      proc.once('exit', () => process.removeListener('exit', killOnExit));
      let exited = null;
      proc.once('exit', (code, sig) => { exited = `exited with ${code ?? sig}`; });
      const deadline = Date.now() + 60_000;
      try {
        while (true) {
          if (exited) throw new Error(`gatehouse demo ${exited}: ${logs.join('').slice(-4000)}`);
          if (Date.now() > deadline) throw new Error(`gatehouse demo not ready in time: ${logs.join('').slice(-4000)}`);
          try {
            const info = JSON.parse(await readFile(path.join(dir, 'demo.json'), 'utf8'));
            return new Demo({ proc, dir, info, logs });
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } catch (err) {
        lastErr = err;
        await stopProc(proc);
        await rm(dir, { recursive: true, force: true });
      }
    }
    throw lastErr;
  }

  async stop() {
    await stopProc(this.proc);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Calls Gatehouse's /api/v1 with the demo's SSWS token. */
  async api(method, apiPath, body) {
    const r = await fetch(this.url + apiPath, {
      method,
      headers: {
        Authorization: `SSWS ${this.info.api_token}`,
        Accept: 'application/json',
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status < 200 || r.status > 299) {
      throw new Error(`${method} ${apiPath}: ${r.status} ${text}`);
    }
    return text ? JSON.parse(text) : undefined;
  }
}

async function stopProc(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(timer);
}
