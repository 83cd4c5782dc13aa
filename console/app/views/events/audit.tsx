import type { ComponentChildren } from 'preact';
import { useCallback } from 'preact/hooks';
import { ApiError } from '../../api.ts';
import { useSession } from '../../context.ts';
import { useAction } from '../../hooks.ts';
import { Badge, Card, ErrorBox } from '../../ui.tsx';
import { eventsLink } from './model.ts';

/** GET /api/v1/audit/verify's answer (gateway/routes/audit.routes.ts). */
interface VerifyReport {
  ok: boolean;
  checked: number;
  sealedThrough: string;
  checkpoints: { verified: number; signaturesChecked: boolean; lastVerified: string | null };
  firstBad?: { position: string; code: string; reason: string; after?: string };
}

/** Checks the log against its hash chain and signed checkpoints, on request (it reads the whole log). */
export function AuditVerification() {
  const { api } = useSession();
  const verify = useAction(useCallback(() => api.get<VerifyReport>('/audit/verify'), [api]));
  return (
    <Card title="Audit verification" class="wide events-audit">
      <p class="muted">
        Recomputes every sealed event’s hash and the chain, and checks the signed checkpoints — seconds per
        million events. Platform administrators only.
      </p>
      <button type="button" disabled={verify.pending} onClick={() => void verify.start()}>
        {verify.pending ? 'Verifying…' : 'Verify the log'}
      </button>
      <div aria-live="polite" class="events-verify">
        {verify.error && <Refusal error={verify.error} />}
        {verify.result && <Report report={verify.result} />}
      </div>
    </Card>
  );
}

function Refusal(props: { error: Error }) {
  if (!(props.error instanceof ApiError) || props.error.status !== 403)
    return <ErrorBox error={props.error} />;
  return (
    <p class="notice" role="alert">
      Only platform principals may verify the audit log; this sign-in may not. <span>The API said: </span>
      <q>{props.error.message}</q>
    </p>
  );
}

function Report(props: { report: VerifyReport }) {
  const r = props.report;
  return (
    <>
      <p>
        <Badge state={r.ok ? 'succeeded' : 'failed'} label={r.ok ? 'intact' : 'tampered'} />{' '}
        {r.ok
          ? 'The sealed log matches its hash chain and checkpoints.'
          : 'The log does not match its chain.'}
      </p>
      {r.firstBad && <FirstBad bad={r.firstBad} />}
      <dl class="ev-facts">
        <Fact term="Events checked">{r.checked}</Fact>
        <Fact term="Sealed through position">{r.sealedThrough}</Fact>
        <Fact term="Checkpoints verified">{r.checkpoints.verified}</Fact>
        <Fact term="Signatures checked">{r.checkpoints.signaturesChecked ? 'yes' : 'no'}</Fact>
        <Fact term="Proven by a signed checkpoint up to">{r.checkpoints.lastVerified ?? '—'}</Fact>
      </dl>
    </>
  );
}

function FirstBad(props: { bad: NonNullable<VerifyReport['firstBad']> }) {
  const { position, code, reason, after } = props.bad;
  const from = BigInt(position) > 0n ? (BigInt(position) - 1n).toString() : undefined;
  return (
    <p class="error">
      First bad position <strong>{position}</strong>: {reason} <code>{code}</code>
      {after && <> — the tampering lies after position {after}</>}.{' '}
      <a href={eventsLink(new URLSearchParams(), { after: from })}>Show the log from there</a>
    </p>
  );
}

function Fact(props: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}
