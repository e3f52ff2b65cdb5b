// Starts the real gatehouse binary on a free loopback port with a fresh data
// directory, prepared the way an operator would: `gatehouse admin create`,
// `gatehouse token create`, then `gatehouse serve`. Everything else (users,
// groups, SAML apps, assignments) goes through the Okta-style /api/v1 with
// the SSWS token, as an automation client would.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const e2eDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'Gatekeeper-Passw0rd-7';

/** Path of the binary under test. */
export function binaryPath() {
  return process.env.GATEHOUSE_BIN || path.join(e2eDir, '.bin', 'gatehouse');
}

/** A loopback port that was free a moment ago. */
export function freePort() {
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

async function runCLI(bin, args, input) {
  const child = execFileP(bin, args, { timeout: 30_000 });
  if (input !== undefined) {
    child.child.stdin.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

/**
 * A running Gatehouse. Call stop() when done; it kills the process and
 * removes the data directory.
 */
export class Gatehouse {
  constructor({ proc, baseURL, token, dataDir, logs }) {
    this.proc = proc;
    this.baseURL = baseURL;
    this.token = token;
    this.dataDir = dataDir;
    this.logs = logs;
  }

  /**
   * Builds the data directory, creates the administrator and an API token,
   * and serves on a free port, waiting until the server answers. args are
   * further `gatehouse serve` flags; port, when given, is the port to
   * serve on (a test that must name Gatehouse's URL before it starts);
   * host names the base URL (localhost for passkeys, which refuse IP
   * addresses); the server listens on 127.0.0.1 either way.
   */
  static async start({ args: extra = [], port: fixedPort, host = '127.0.0.1' } = {}) {
    const bin = binaryPath();
    try {
      await access(bin);
    } catch {
      throw new Error(`${bin} does not exist: run "npm test" (its pretest builds it) or "node lib/build.js"`);
    }
    const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-e2e-'));
    const common = ['--data-dir', dataDir, '--log-level', 'warn'];
    try {
      await runCLI(bin, ['admin', 'create', ...common, '--email', ADMIN_EMAIL, '--password-stdin'], ADMIN_PASSWORD + '\n');
      const token = (await runCLI(bin, ['token', 'create', ...common, '--name', 'e2e'])).trim();
      if (!/^\S{20,}$/.test(token)) {
        throw new Error(`token create printed ${JSON.stringify(token)}`);
      }
      // The port is chosen before the server binds it; retry on the rare
      // race with another process.
      let lastErr;
      for (let attempt = 0; attempt < 3; attempt++) {
        const port = fixedPort ?? await freePort();
        const baseURL = `http://${host}:${port}`;
        const logs = [];
        const proc = spawn(bin, ['serve', ...common, '--listen', `127.0.0.1:${port}`, '--base-url', baseURL, '--api-rate-limit', '100000', ...extra], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        proc.stdout.on('data', (d) => logs.push(d.toString()));
        proc.stderr.on('data', (d) => logs.push(d.toString()));
        // If the test process dies without running its cleanup, take the
        // server down with it.
        const killOnExit = () => proc.kill('SIGKILL');
        process.once('exit', killOnExit);
        proc.once('exit', () => process.removeListener('exit', killOnExit));
        const gh = new Gatehouse({ proc, baseURL, token, dataDir, logs });
        try {
          await gh.waitReady();
          return gh;
        } catch (err) {
          lastErr = err;
          await gh.kill();
        }
      }
      throw lastErr;
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  async waitReady() {
    const deadline = Date.now() + 20_000;
    let exited = null;
    this.proc.once('exit', (code, sig) => { exited = `exited with ${code ?? sig}`; });
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(`gatehouse serve ${exited}: ${this.logs.join('')}`);
      }
      try {
        const r = await fetch(this.baseURL + '/login', { redirect: 'manual' });
        if (r.status === 200) {
          await r.arrayBuffer();
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`gatehouse serve did not answer in time: ${this.logs.join('')}`);
  }

  async kill() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      return;
    }
    const done = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  }

  async stop() {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Calls /api/v1 with the SSWS token; returns {status, body, text}. */
  async api(method, apiPath, body) {
    const r = await fetch(this.baseURL + apiPath, {
      method,
      headers: {
        Authorization: `SSWS ${this.token}`,
        Accept: 'application/json',
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.status, body: json, text };
  }

  async mustAPI(method, apiPath, body) {
    const r = await this.api(method, apiPath, body);
    if (r.status < 200 || r.status > 299) {
      throw new Error(`${method} ${apiPath}: ${r.status} ${r.text}`);
    }
    return r.body;
  }

  /** Creates an active user with a password; returns the Okta user JSON. */
  createUser(login, password, firstName = 'Pat', lastName = 'Doe') {
    return this.mustAPI('POST', '/api/v1/users?activate=true', {
      profile: { login, email: login, firstName, lastName },
      credentials: { password: { value: password } },
    });
  }

  async createGroup(name) {
    return this.mustAPI('POST', '/api/v1/groups', { profile: { name } });
  }

  addToGroup(groupId, userId) {
    return this.mustAPI('PUT', `/api/v1/groups/${groupId}/users/${userId}`);
  }

  /**
   * Creates and activates a custom SAML 2.0 app; signOn is merged into
   * settings.signOn. Returns the Okta app JSON.
   */
  createSAMLApp(label, signOn) {
    return this.mustAPI('POST', '/api/v1/apps?activate=true', {
      label,
      signOnMode: 'SAML_2_0',
      settings: { signOn },
    });
  }

  assign(appId, userId) {
    return this.mustAPI('POST', `/api/v1/apps/${appId}/users`, { id: userId, scope: 'USER' });
  }

  /** The app's IdP metadata through the admin API. */
  async metadata(appId) {
    const r = await fetch(`${this.baseURL}/api/v1/apps/${appId}/sso/saml/metadata`, {
      headers: { Authorization: `SSWS ${this.token}` },
    });
    const text = await r.text();
    if (r.status !== 200) {
      throw new Error(`metadata: ${r.status} ${text}`);
    }
    return text;
  }
}
