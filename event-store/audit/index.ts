export { type AuditLog, type CheckpointExport, createAuditLog } from './audit-log.ts';
export { canonicalJson } from './canonical.ts';
export { type ChainLink, eventHash, GENESIS, type HashableEvent, nextLink } from './chain.ts';
export { type Sealer, type SealerOptions, startSealer } from './sealer.ts';
export {
  type Checkpoint,
  type CheckpointJson,
  type CheckpointSigner,
  checkpointFromJson,
  checkpointSignatureValid,
  checkpointToJson,
  createCheckpointSigner,
  generateSigningKeyPem,
  keyIdOf,
  parseSigningKey,
} from './signing.ts';
export {
  type FirstBad,
  reportToJson,
  type TamperCode,
  type VerifyReport,
  type VerifyReportJson,
  verifyChain,
} from './verify.ts';
