import { parseDocument, stringify } from 'yaml';
import { CliError } from '../errors.ts';
import { ConfigDocument } from './document.ts';

const HEADER = [
  ' Switchyard configuration (switchyard export; apply with switchyard apply -f <file>).',
  ' Schema: docs/config.schema.json. Sealed secrets are written as "[redacted]": apply keeps the',
  ' current value and cannot create a server from it (give a { secretRef: env:NAME } instead).',
].join('\n');

const isEmpty = (v: unknown) =>
  (Array.isArray(v) && v.length === 0) ||
  (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

/** Leaves out what the schema would default back: shorter files, the same document once parsed. */
function compact(doc: ConfigDocument): Record<string, unknown> {
  return {
    ...doc,
    servers: doc.servers.map((s) => ({
      name: s.name,
      ...(s.description !== undefined && { description: s.description }),
      transport: Object.fromEntries(
        Object.entries(s.transport).filter(
          ([k, v]) => !(['args', 'env', 'headers'].includes(k) && isEmpty(v)),
        ),
      ),
      ...(s.tags.length > 0 && { tags: s.tags }),
      ...(!s.enabled && { enabled: false }),
      ...(!isEmpty(s.settings) && { settings: s.settings }),
    })),
    rateLimits: doc.rateLimits.map(({ match, global, ...r }) => ({
      ...r,
      ...(!isEmpty(match) && { match }),
      ...(global && { global: true }),
    })),
  };
}

/** The document as YAML: the same configuration always gives the same text. */
export function configToYaml(doc: ConfigDocument): string {
  return `#${HEADER.split('\n').join('\n#')}\n${stringify(compact(doc), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** A configuration file: YAML (JSON is YAML too), checked against the schema; every problem named. */
export function parseConfigYaml(text: string, file = 'the file'): ConfigDocument {
  const parsed = parseDocument(text, { prettyErrors: true });
  if (parsed.errors.length > 0) {
    throw new CliError(
      `${file} is not valid YAML:\n${parsed.errors.map((e) => `  ${e.message}`).join('\n')}`,
    );
  }
  const value: unknown = parsed.toJS();
  // A section left with no items (`toolsets:` and nothing under it) is YAML's null: an empty list.
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (v === null) (value as Record<string, unknown>)[k] = [];
  }
  const r = ConfigDocument.safeParse(value);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(document)'}: ${i.message}`);
    throw new CliError(`${file} is not a Switchyard configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}
