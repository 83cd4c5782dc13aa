import { readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { z } from 'zod';
import {
  type CheckpointExport,
  checkpointFromJson,
  reportToJson,
  type VerifyReport,
  type VerifyReportJson,
  verifyChain,
} from '../event-store/audit/index.ts';
import type { RecordedEventJson } from '../kernel/envelope.ts';
import { addReplayCommands } from './audit-replay.command.ts';
import { CliError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiGet, type Gateway } from './http-client.ts';

const exportFile = z.object({
  format: z.literal('switchyard-audit-checkpoints/1'),
  publicKey: z.string().optional(),
  keyId: z.string().optional(),
  checkpoints: z.array(
    z.object({
      position: z.string().regex(/^\d+$/),
      seq: z.string().regex(/^\d+$/),
      chainHash: z.string().regex(/^[0-9a-f]{64}$/),
      signedAt: z.string(),
      keyId: z.string(),
      signature: z.string(),
    }),
  ),
});

/** `switchyard audit verify | checkpoints | server | calls | changes`: the log, for auditors (docs/audit.md). */
export function auditCommand(): Command {
  const audit = new Command('audit').description(
    'the tamper-evident log: verify it, export its signed checkpoints; replay it: a server as of a time, tool calls, changes',
  );
  withGatewayOptions(audit.command('verify'))
    .description(
      'verify the log against its hash chain and signed checkpoints (exit 1 and the first bad position if it does not)',
    )
    .option(
      '--checkpoints <file>',
      'verify here, against checkpoints exported earlier: recompute the chain from the events the API serves, trusting only the file’s signatures',
    )
    .option(
      '--public-key <file>',
      'with --checkpoints: the key the checkpoints must be signed by (SPKI PEM), instead of the file’s own',
    )
    .option('--json', 'print JSON')
    .action(async (opts: GatewayOptions & { checkpoints?: string; publicKey?: string; json?: boolean }) => {
      const gateway = await gatewayOf(opts);
      const report = opts.checkpoints
        ? reportToJson(await verifyAgainstExport(gateway, opts.checkpoints, opts.publicKey))
        : await apiGet<VerifyReportJson>(gateway, '/api/v1/audit/verify');
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (!report.ok)
        throw new CliError(`the log does not verify: first bad position ${report.firstBad?.position}`);
    });
  withGatewayOptions(audit.command('checkpoints'))
    .description('the signed checkpoints and the public key (never the private key)')
    .option('--export <file>', 'write them to a file, for a third party to verify against later')
    .action(async (opts: GatewayOptions & { export?: string }) => {
      const gateway = await gatewayOf(opts);
      const exported = await apiGet<CheckpointExport>(gateway, '/api/v1/audit/checkpoints');
      const text = `${JSON.stringify(exported, null, 2)}\n`;
      if (!opts.export) {
        process.stdout.write(text);
        return;
      }
      await writeFile(opts.export, text, { flag: 'w' });
      const last = exported.checkpoints.at(-1);
      process.stdout.write(
        `wrote ${exported.checkpoints.length} checkpoints${last ? ` (the last at position ${last.position})` : ''} signed by key ${exported.keyId ?? '(none configured)'} to ${opts.export}\n`,
      );
    });
  addReplayCommands(audit);
  return audit;
}

/**
 * A third party's check: the events as the API serves them, hashed and chained here, held to the
 * exported checkpoints' signatures. Neither the gateway's verifier nor the database's chain table is
 * trusted; the events must be the whole log (an administrator's key: a tenant sees only its own).
 */
async function verifyAgainstExport(
  gateway: Gateway,
  file: string,
  publicKeyFile: string | undefined,
): Promise<VerifyReport> {
  let parsed: z.infer<typeof exportFile>;
  try {
    parsed = exportFile.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (e) {
    throw new CliError(`${file} is not an exported checkpoints file: ${(e as Error).message}`);
  }
  const publicKeyPem = publicKeyFile ? await readFile(publicKeyFile, 'utf8') : parsed.publicKey;
  if (!publicKeyPem) throw new CliError(`${file} has no public key: give --public-key`);
  const checkpoints = parsed.checkpoints.map(checkpointFromJson);
  // The last checkpoint bounds what the file can prove.
  let through = 0n;
  for (const c of checkpoints) if (c.position > through) through = c.position;
  return verifyChain({ events: eventsThrough(gateway, through), checkpoints, publicKeyPem, through });
}

async function* eventsThrough(gateway: Gateway, through: bigint): AsyncGenerator<RecordedEventJson[]> {
  let after = '0';
  for (;;) {
    const page = await apiGet<{ events: RecordedEventJson[]; next: string; hasMore: boolean }>(
      gateway,
      '/api/v1/events',
      { after, limit: '1000' },
    );
    yield page.events;
    if (!page.hasMore || BigInt(page.next) >= through) return;
    after = page.next;
  }
}

export function formatReport(r: VerifyReportJson): string {
  const signed = r.checkpoints.signaturesChecked
    ? `${r.checkpoints.verified} signed checkpoints verified${r.checkpoints.lastVerified ? ` (the last at ${r.checkpoints.lastVerified})` : ''}`
    : 'checkpoint signatures not checked (no signing key configured)';
  if (r.ok)
    return `ok: ${r.checked} events verified, sealed through position ${r.sealedThrough}; ${signed}\n`;
  const bad = r.firstBad!;
  return `TAMPERED: first bad position ${bad.position} (${bad.code}): ${bad.reason}\n${r.checked} events verified before it; ${signed}\n`;
}
