import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api.ts';
import { useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { Badge, duration, ms, Table } from '../../ui.tsx';
import {
  bytes,
  type GeneratedFile,
  type GeneratedProject,
  type ProjectDetail,
  type ProjectPreview,
} from './types.ts';

/**
 * A project the gateway has written (POST /projects answered 201): GET /projects/:id is polled until
 * the projects read model holds it, then it says where it went and what was written.
 */
export function Generation(props: { project: GeneratedProject }) {
  const p = props.project;
  const path = `/projects/${encodeURIComponent(p.projectId)}`;
  const found = useResourceUntilFound(path);
  const recorded = found.data !== undefined;
  const notYet = found.error instanceof ApiError && found.error.status === 404;
  return (
    <section class="tpl-generation" aria-labelledby="generation-title">
      <h3 id="generation-title">
        Project generated{' '}
        <Badge state={recorded ? 'succeeded' : 'running'} label={recorded ? 'recorded' : 'being recorded'} />
      </h3>
      <p role="status">
        {p.files.length} files from {p.template}@{p.version} written to <code>{p.destination}</code> in the
        workspace (<code>{p.path}</code> on the gateway host) in {took(p.durationMs)}.{' '}
        {recorded ? (
          <a href={`${href('templates')}?tab=projects&project=${encodeURIComponent(p.projectId)}`}>
            See the project
          </a>
        ) : notYet || found.loading ? (
          'Waiting for the projects read model to record it…'
        ) : (
          found.error && `It could not be read back: ${found.error.message}`
        )}
      </p>
      {p.replaced && <p class="muted">It replaced project {p.replaced.projectId}.</p>}
      <Files files={found.data?.files ?? p.files} caption="Files written" />
    </section>
  );
}

/** GET a path every second until it answers (a read model catching up) or a minute has passed. */
function useResourceUntilFound(path: string) {
  const [started] = useState(Date.now);
  const [found, setFound] = useState(false);
  const polling = !found && Date.now() - started < 60_000;
  const r = useResource<ProjectDetail>(path, polling ? 1000 : undefined);
  useEffect(() => {
    if (r.data !== undefined) setFound(true);
  }, [r.data]);
  return r;
}

export const took = (v: number) => (v < 1000 ? ms(v) : duration(v));

/** What POST /projects/preview said generating would do; nothing was written. */
export function PreviewResult(props: { preview: ProjectPreview }) {
  const p = props.preview;
  const decision = p.destinationDecision;
  return (
    <section class="tpl-generation" aria-label="Preview">
      <p role="status" class={decision.action === 'refuse' ? 'error' : 'notice'}>
        Preview (nothing written): {p.files.length} files into <code>{p.destination}</code>.{' '}
        {decision.action === 'write' && 'The destination is free.'}
        {decision.action === 'replace' && 'This replaces an earlier generation there.'}
        {decision.action === 'refuse' && `Generating would be refused: ${decision.refusal?.message ?? ''}`}
      </p>
      <Files files={p.files} caption="Files the generation would write" />
    </section>
  );
}

export function Files(props: { files: GeneratedFile[]; caption: string }) {
  return (
    <Table caption={props.caption} head={['Path', 'Size', 'SHA-256']}>
      {props.files.map((f) => (
        <tr key={f.path}>
          <td>
            <code>{f.path}</code>
          </td>
          <td class="num">{bytes(f.size)}</td>
          <td>
            <code title={f.sha256}>{f.sha256.slice(0, 12)}…</code>
          </td>
        </tr>
      ))}
    </Table>
  );
}
