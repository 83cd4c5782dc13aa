import { useResource } from '../../hooks.ts';
import { href, setQuery } from '../../router.ts';
import { Card, Field, Loaded, Table, Time } from '../../ui.tsx';
import { Files, took } from './generation.tsx';
import { bytes, type ProjectDetail, type ProjectView } from './types.ts';

const projectHref = (id: string) => `${href('templates')}?tab=projects&project=${encodeURIComponent(id)}`;

/** GET /projects (newest first), optionally of one template. */
export function Projects(props: { query: URLSearchParams }) {
  const template = props.query.get('template') ?? '';
  const params = new URLSearchParams({ limit: '100' });
  if (template) params.set('template', template);
  const projects = useResource<{ items: ProjectView[]; nextCursor: string | null }>(
    `/projects?${params}`,
    10_000,
  );
  return (
    <Card title="Generated projects" class="wide">
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const value = new FormData(e.currentTarget).get('template');
          setQuery({ template: typeof value === 'string' ? value.trim() : undefined });
        }}
      >
        <Field label="Template">{(id) => <input id={id} name="template" defaultValue={template} />}</Field>
        <button type="submit">Filter</button>
      </form>
      <Loaded resource={projects}>
        {({ items, nextCursor }) => (
          <>
            <Table
              caption="Generated projects, newest first"
              head={['Generated', 'Template', 'Destination', 'Files', 'Size', 'By']}
              empty="No project generated yet: pick a template in the catalog to generate one."
            >
              {items.map((p) => (
                <tr key={p.projectId}>
                  <td>
                    <Time at={p.generatedAt} />
                  </td>
                  <td>
                    <a href={href('templates', p.template)}>{p.template}</a>@{p.version}
                  </td>
                  <td>
                    <a href={projectHref(p.projectId)}>
                      <code>{p.destination}</code>
                    </a>
                  </td>
                  <td class="num">{p.fileCount}</td>
                  <td class="num">{bytes(p.totalBytes)}</td>
                  <td>{p.actor}</td>
                </tr>
              ))}
            </Table>
            {nextCursor && <p class="muted">Showing the newest {items.length}.</p>}
          </>
        )}
      </Loaded>
    </Card>
  );
}

/** `?tab=projects&project=<id>`: GET /projects/:id — its variables (secrets redacted) and files. */
export function ProjectDetailCard(props: { id: string }) {
  const project = useResource<ProjectDetail>(`/projects/${encodeURIComponent(props.id)}`);
  return (
    <>
      <p>
        <a href={`${href('templates')}?tab=projects`}>All generated projects</a>
      </p>
      <Loaded resource={project}>
        {(p) => (
          <div class="grid">
            <Card title={`Project ${p.destination}`} class="wide">
              <p>
                Generated from <a href={href('templates', p.template)}>{p.template}</a>@{p.version} into{' '}
                <code>{p.destination}</code> (relative to the gateway's workspace root) by {p.actor},{' '}
                <Time at={p.generatedAt} />, in {took(p.durationMs)}
                {p.overwrite && ', replacing what was there'}.
              </p>
              <p class="muted">
                Project id <code>{p.projectId}</code> · {p.fileCount} files · {bytes(p.totalBytes)}
              </p>
            </Card>
            <Card title="Variables">
              <dl class="tpl-defs">
                {Object.entries(p.variables).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>
                      <code>{JSON.stringify(v)}</code>
                    </dd>
                  </div>
                ))}
              </dl>
            </Card>
            <Card title={`Files (${p.files.length})`} class="wide">
              <Files files={p.files} caption={`Files of project ${p.destination}`} />
            </Card>
          </div>
        )}
      </Loaded>
    </>
  );
}
