// Test service-provider key pairs: an RSA-2048 key and a self-signed X.509
// certificate (sha256WithRSAEncryption, valid from an hour ago for two
// days). Node's crypto makes keys and signatures but writes no
// certificates, so the few DER structures a certificate needs are encoded
// here (X.509 v1: no extensions are needed for SAML signing/encryption
// keys). Returned as PEM plus the bare base64 DER that Okta-style app
// settings take in x5c.
import { generateKeyPair, randomBytes, sign, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairP = promisify(generateKeyPair);

function tlv(tag, ...parts) {
  const body = Buffer.concat(parts);
  let len;
  if (body.length < 0x80) {
    len = Buffer.from([body.length]);
  } else {
    const bytes = [];
    for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...parts) => tlv(0x30, ...parts);
const set = (...parts) => tlv(0x31, ...parts);
const nul = () => tlv(0x05);
const utf8 = (s) => tlv(0x0c, Buffer.from(s, 'utf8'));

function oid(dotted) {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let n = arc >> 7; n > 0; n >>= 7) chunk.unshift(0x80 | (n & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function positiveInteger(bytes) {
  const b = Buffer.from(bytes);
  b[0] &= 0x7f; // positive
  if (b[0] === 0) b[0] = 1; // minimal encoding
  return tlv(0x02, b);
}

function utcTime(date) {
  const s = date.toISOString(); // 2026-11-27T05:39:54.652Z
  return tlv(0x17, Buffer.from(s.slice(2, 4) + s.slice(5, 7) + s.slice(8, 10) + s.slice(11, 13) + s.slice(14, 16) + s.slice(17, 19) + 'Z'));
}

const SHA256_WITH_RSA = seq(oid('1.2.840.113549.1.1.11'), nul());
const COMMON_NAME = '2.5.4.3';

/** @returns {Promise<{key: string, cert: string, x5c: string}>} */
export async function makeSPKeyPair(cn = 'sp.example.test') {
  const { publicKey, privateKey } = await generateKeyPairP('rsa', { modulusLength: 2048 });
  const name = seq(set(seq(oid(COMMON_NAME), utf8(cn))));
  const now = Date.now();
  const tbs = seq(
    positiveInteger(randomBytes(16)),
    SHA256_WITH_RSA,
    name,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 2 * 86400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), signature));
  const x5c = der.toString('base64');
  const cert = `-----BEGIN CERTIFICATE-----\n${x5c.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
  // Self-check: the certificate parses and its signature verifies.
  if (!new X509Certificate(der).verify(publicKey)) {
    throw new Error('generated certificate does not verify');
  }
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert, x5c };
}
