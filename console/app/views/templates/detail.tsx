import { useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { Badge, Card, Loaded, PageHeader, Table, Time } from '../../ui.tsx';
import { Generate } from './generate.tsx';
import { bytes, constraintsOf, type TemplateDetail, type TemplateVariable } from './types.ts';

/** `#/templates/<name>`: GET /templates/:name — what it is, what it asks for, what it writes. */
export function TemplateDetailPage(props: { name: string }) {
  const template = useResource<TemplateDetail>(`/templates/${encodeURIComponent(props.name)}`);
  return (
    <>
      <PageHeader title={`Template ${props.name}`}>
        <a href={`${href('templates')}?tab=catalog`}>Back to the catalog</a>
      </PageHeader>
      <Loaded resource={template}>
        {(t) => (
          <div class="grid">
            <About template={t} />
            <Generate template={t} />
            <Card title={`Variables (${t.variables.length})`} class="wide">
              <Variables variables={t.variables} />
            </Card>
            <Card title={`Files (${t.files.length})`} class="wide">
              <Table caption={`Files of template ${t.name}`} head={['Path', 'Size', 'Written']}>
                {t.files.map((f) => (
                  <tr key={f.path}>
                    <td>
                      <code>{f.path}</code>
                    </td>
                    <td class="num">{bytes(f.size)}</td>
                    <td>{f.binary ? 'copied (binary)' : f.render ? 'rendered' : 'copied as is'}</td>
                  </tr>
                ))}
              </Table>
            </Card>
          </div>
        )}
      </Loaded>
    </>
  );
}

function About(props: { template: TemplateDetail }) {
  const t = props.template;
  const validation = t.latestValidation;
  return (
    <Card title="About" class="wide">
      <p>{t.description}</p>
      <dl class="stats">
        <div>
          <dt>Version</dt>
          <dd>{t.version}</dd>
        </div>
        <div>
          <dt>Stack</dt>
          <dd>{t.stack}</dd>
        </div>
        <div>
          <dt>Source</dt>
          <dd>{t.source}</dd>
        </div>
        <div>
          <dt>Last validation</dt>
          <dd>
            {validation ? (
              <Badge
                state={validation.ok ? 'succeeded' : 'failed'}
                label={validation.ok ? 'valid' : 'invalid'}
              />
            ) : (
              <span class="muted">not validated</span>
            )}
          </dd>
        </div>
      </dl>
      <p class="muted">
        Tags: {t.tags.length > 0 ? t.tags.join(', ') : 'none'} · published <Time at={t.publishedAt} />
        {t.commit && (
          <>
            {' '}
            · commit <code>{t.commit.slice(0, 12)}</code>
          </>
        )}
        {t.versions.length > 1 && <> · versions {t.versions.map((v) => v.version).join(', ')}</>}
      </p>
      {validation && validation.issues.length > 0 && (
        <ul>
          {validation.issues.map((i) => (
            <li key={`${i.code}-${i.file ?? ''}-${i.message}`}>
              {i.severity}: {i.message} {i.file && <code>{i.file}</code>}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function Variables(props: { variables: TemplateVariable[] }) {
  return (
    <Table
      caption="Variables the template renders with"
      head={['Name', 'Type', 'Required', 'Default', 'Allowed', 'Description']}
      empty="This template asks for nothing."
    >
      {props.variables.map((v) => (
        <tr key={v.name}>
          <td>
            <code>{v.name}</code>
          </td>
          <td>{v.type}</td>
          <td>{v.required && v.default === undefined ? 'required' : 'optional'}</td>
          <td>{v.default === undefined ? '—' : <code>{JSON.stringify(v.default)}</code>}</td>
          <td>{constraintsOf(v) || '—'}</td>
          <td>{v.description ?? ''}</td>
        </tr>
      ))}
    </Table>
  );
}
