// Test service-provider key pairs: an RSA-2048 key and a self-signed
// certificate made with the openssl command (Node's crypto has no X.509
// writer). Returned as PEM plus the bare base64 DER that Okta-style app
// settings take in x5c.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** @returns {Promise<{key: string, cert: string, x5c: string}>} */
export async function makeSPKeyPair(cn = 'sp.example.test') {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-e2e-sp-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await execFileP('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', `/CN=${cn}`, '-keyout', keyFile, '-out', certFile], { timeout: 30_000 });
    const key = await readFile(keyFile, 'utf8');
    const cert = await readFile(certFile, 'utf8');
    return { key, cert, x5c: pemBody(cert) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The base64 body of a PEM block, without line breaks. */
export function pemBody(pem) {
  return pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
}
