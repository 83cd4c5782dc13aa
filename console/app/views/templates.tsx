import './templates.css';
import { href, useRoute } from '../router.ts';
import { PageHeader, Tabs } from '../ui.tsx';
import { Catalog } from './templates/catalog.tsx';
import { TemplateDetailPage } from './templates/detail.tsx';
import { ProjectDetailCard, Projects } from './templates/projects.tsx';
import { Sources } from './templates/sources.tsx';

const TABS: Array<[string, string]> = [
  ['catalog', 'Catalog'],
  ['projects', 'Generated projects'],
  ['sources', 'Sources'],
];

/**
 * The template catalog (`#/templates?tab=catalog`), one template with its generate form
 * (`#/templates/<name>`), the projects generated from templates and the sources templates come from.
 */
export function Templates() {
  const { path, query } = useRoute();
  const name = path[1];
  if (name) return <TemplateDetailPage name={name} />;
  const tab = TABS.some(([key]) => key === query.get('tab')) ? query.get('tab')! : 'catalog';
  const project = query.get('project');
  return (
    <>
      <PageHeader title="Templates" />
      <Tabs tabs={TABS} current={tab} hrefOf={(t) => `${href('templates')}?tab=${t}`} />
      {tab === 'catalog' && <Catalog query={query} />}
      {tab === 'projects' && (project ? <ProjectDetailCard id={project} /> : <Projects query={query} />)}
      {tab === 'sources' && <Sources />}
    </>
  );
}
