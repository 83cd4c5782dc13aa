import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { canonicalJson } from './canonical.ts';

/** A signed statement: "the chain's link number `seq`, at `position`, has this chain_hash". */
export interface Checkpoint {
  position: bigint;
  seq: bigint;
  chainHash: string;
  signedAt: Date;
  /** Fingerprint of the public key that signed it (keyIdOf). */
  keyId: string;
  /** Ed25519 signature over checkpointPayload, base64. */
  signature: string;
}

/** JSON form of a checkpoint, as exported and answered by the API. */
export interface CheckpointJson {
  position: string;
  seq: string;
  chainHash: string;
  signedAt: string;
  keyId: string;
  signature: string;
}

export function checkpointToJson(c: Checkpoint): CheckpointJson {
  return {
    position: c.position.toString(),
    seq: c.seq.toString(),
    chainHash: c.chainHash,
    signedAt: c.signedAt.toISOString(),
    keyId: c.keyId,
    signature: c.signature,
  };
}

export function checkpointFromJson(c: CheckpointJson): Checkpoint {
  return { ...c, position: BigInt(c.position), seq: BigInt(c.seq), signedAt: new Date(c.signedAt) };
}

/** The exact bytes signed: a label, then the checkpoint's fields (but the signature) as canonical JSON. */
export function checkpointPayload(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(
    `sy-checkpoint/1\n${canonicalJson({
      position: c.position,
      seq: c.seq,
      chainHash: c.chainHash,
      signedAt: c.signedAt,
      keyId: c.keyId,
    })}`,
  );
}

/** Signs checkpoints; the private key never leaves it (no accessor, not in any log). */
export interface CheckpointSigner {
  readonly keyId: string;
  /** The public key, SPKI PEM: what an auditor needs to verify. */
  readonly publicKeyPem: string;
  sign(c: Omit<Checkpoint, 'signature' | 'keyId'>): Checkpoint;
}

/** An Ed25519 key from PKCS#8 PEM, or from the base64 of its 32-byte seed. */
export function parseSigningKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    const key = createPrivateKey(trimmed);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('the audit signing key must be an Ed25519 key');
    return key;
  }
  const seed = Buffer.from(trimmed, 'base64');
  if (seed.length !== 32 || seed.toString('base64') !== trimmed.replace(/\s/g, ''))
    throw new Error('the audit signing key must be PKCS#8 PEM, or base64 of a 32-byte Ed25519 seed');
  // PKCS#8 of an Ed25519 key is this fixed 16-byte prefix followed by the seed (RFC 8410).
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** A new Ed25519 key, PKCS#8 PEM (for a data directory that has none yet). */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** First 16 bytes (hex) of the SHA-256 of the public key's SPKI DER: names the key in checkpoints. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')
    .slice(0, 32);
}

export function createCheckpointSigner(privateKey: KeyObject): CheckpointSigner {
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign(c) {
      const unsigned = { ...c, keyId };
      return {
        ...unsigned,
        signature: sign(null, checkpointPayload(unsigned), privateKey).toString('base64'),
      };
    },
  };
}

/** Whether `c` was signed by `publicKeyPem` (and says what it says). */
export function checkpointSignatureValid(c: Checkpoint, publicKeyPem: string): boolean {
  try {
    const { publicKey, keyId } = parsedPublicKey(publicKeyPem);
    if (keyId !== c.keyId) return false;
    const { signature, ...unsigned } = c;
    return verify(null, checkpointPayload(unsigned), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The last public key parsed: verify checks a thousand checkpoints per million events with one key. */
let lastKey: { pem: string; publicKey: KeyObject; keyId: string } | undefined;

function parsedPublicKey(pem: string): { publicKey: KeyObject; keyId: string } {
  if (lastKey?.pem !== pem) {
    const publicKey = createPublicKey(pem);
    lastKey = { pem, publicKey, keyId: keyIdOf(publicKey) };
  }
  return lastKey;
}
