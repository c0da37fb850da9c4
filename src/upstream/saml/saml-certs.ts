import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';

/**
 * Certificates as SAML carries them: PEM text, or the bare base64 DER of a `ds:X509Certificate`
 * element. Everything is normalised to PEM and parsed once, so a broken certificate is reported
 * where it was configured or fetched, not at the first login.
 */
export function toPem(certOrBase64: string): string {
  const text = certOrBase64.trim();
  if (text.includes('-----BEGIN CERTIFICATE-----')) return normalisePem(text);
  const b64 = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('not a PEM or base64 certificate');
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function normalisePem(text: string): string {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (!m) throw new Error('not a PEM certificate');
  return toPem(m[1]!);
}

/** Parses a certificate (throws with a readable message when it is not one). */
export function parseCertificate(certOrBase64: string): { pem: string; fingerprint256: string; notAfter: string } {
  const pem = toPem(certOrBase64);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new Error('not a valid X.509 certificate');
  }
  return { pem, fingerprint256: cert.fingerprint256, notAfter: cert.validTo };
}

/** The base64 DER body of a PEM certificate, as SAML metadata writes it. */
export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
}

/** True when the private key belongs to the certificate (catches a swapped key/cert pair at start-up). */
export function keyMatchesCertificate(privateKeyPem: string, certPem: string): boolean {
  const fromKey = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.compare(fromKey, fromCert) === 0;
}
