import { REDACTED } from '../../kernel/secrets.ts';
import { sameConfig } from './canonical.ts';
import type { ServerEntry, ToolsetEntry } from './document.ts';
import { type ApiCall, differing, type PlanBuilder } from './plan-builder.ts';

const enc = encodeURIComponent;

/** Tenants are created; the API has no command to rename or remove one, so the plan says so instead. */
export function planTenants(b: PlanBuilder): void {
  for (const t of b.desired.tenants) {
    const now = b.have.tenants.find((h) => h.id === t.id);
    if (!now) b.create('tenant', t.id, [{ method: 'POST', path: '/api/v1/tenants', body: t }]);
    else if (now.name !== t.name)
      b.note(`tenant ${t.id}: a tenant cannot be renamed; it stays "${now.name}"`);
  }
  if (!b.prune) return;
  for (const t of b.have.tenants.filter((h) => !b.desired.tenants.some((d) => d.id === h.id))) {
    b.note(`tenant ${t.id}: tenants are never removed by apply`);
  }
}

/**
 * Servers by name. A sealed secret's placeholder keeps the server's value; with no value to keep
 * (a new server, a new key) it is a problem, found before anything is sent.
 */
export function planServers(b: PlanBuilder): void {
  for (const s of b.desired.servers) {
    const now = b.have.servers.find((h) => h.name === s.name);
    if (!now) {
      for (const path of placeholders(s.transport)) {
        b.problem(
          `server ${s.name}: transport.${path} is "${REDACTED}", a sealed secret's placeholder; a server cannot be created from it — give the value or { secretRef: env:NAME }`,
        );
      }
      b.create('server', s.name, [{ method: 'POST', path: '/api/v1/servers?wait=true', body: s }]);
      continue;
    }
    const kept = placeholders(now.transport);
    for (const path of placeholders(s.transport).filter((p) => !kept.includes(p))) {
      b.problem(
        `server ${s.name}: transport.${path} is "${REDACTED}" but the server has no such secret to keep — give the value or { secretRef: env:NAME }`,
      );
    }
    const changed = serverChanges(now, s);
    if (changed.fields.length === 0) continue;
    const calls: ApiCall[] = [];
    if (Object.keys(changed.patch).length > 0) {
      calls.push({ method: 'PATCH', path: `/api/v1/servers/${enc(s.name)}?wait=true`, body: changed.patch });
    }
    if (now.enabled !== s.enabled) {
      const action = s.enabled ? 'enable' : 'disable';
      calls.push({ method: 'POST', path: `/api/v1/servers/${enc(s.name)}/${action}?wait=true` });
    }
    b.change('server', s.name, changed.fields, calls);
  }
  for (const h of b.have.servers.filter((h) => !b.desired.servers.some((d) => d.name === h.name))) {
    b.remove('server', h.name, [{ method: 'DELETE', path: `/api/v1/servers/${enc(h.name)}?wait=true` }]);
  }
}

/** Template sources by name; a change registers the source again with `replace`. */
export function planTemplateSources(b: PlanBuilder): void {
  for (const s of b.desired.templateSources) {
    const now = b.have.templateSources.find((h) => h.name === s.name);
    if (!now) {
      b.create('template source', s.name, [{ method: 'POST', path: '/api/v1/template-sources', body: s }]);
      continue;
    }
    const fields = differing(now, s, ['kind', 'location', 'ref', 'intervalMs'], sameConfig);
    if (fields.length > 0) {
      b.change('template source', s.name, fields, [
        { method: 'POST', path: '/api/v1/template-sources', body: { ...s, replace: true } },
      ]);
    }
  }
  const gone = b.have.templateSources.filter(
    (h) => !b.desired.templateSources.some((d) => d.name === h.name),
  );
  for (const h of gone) {
    b.remove('template source', h.name, [
      { method: 'DELETE', path: `/api/v1/template-sources/${enc(h.name)}` },
    ]);
  }
}

/** Toolsets by name; defining one again replaces it (PUT). */
export function planToolsets(b: PlanBuilder): void {
  for (const t of b.desired.toolsets) {
    const now = b.have.toolsets.find((h) => h.name === t.name);
    const calls: ApiCall[] = [
      { method: 'PUT', path: `/api/v1/toolsets/${enc(t.name)}?wait=true`, body: toolsetBody(t) },
    ];
    if (!now) b.create('toolset', t.name, calls);
    else {
      const fields = differing(now, t, ['description', 'tools'], sameConfig);
      if (fields.length > 0) b.change('toolset', t.name, fields, calls);
    }
  }
  for (const h of b.have.toolsets.filter((h) => !b.desired.toolsets.some((d) => d.name === h.name))) {
    b.remove('toolset', h.name, [{ method: 'DELETE', path: `/api/v1/toolsets/${enc(h.name)}?wait=true` }]);
  }
}

/**
 * A server's differences as an update's patch. A sealed secret written as "[redacted]" keeps the
 * current value, so it is no difference; a value given in clear cannot be compared with the
 * sealed one and is always written (it is sealed again on the way in).
 */
function serverChanges(
  now: ServerEntry,
  wanted: ServerEntry,
): { fields: string[]; patch: Record<string, unknown> } {
  const fields: string[] = [];
  const patch: Record<string, unknown> = {};
  if ((now.description ?? null) !== (wanted.description ?? null)) {
    fields.push('description');
    patch.description = wanted.description ?? null;
  }
  for (const f of ['transport', 'tags'] as const) {
    if (!sameConfig(now[f], wanted[f])) {
      fields.push(f);
      patch[f] = wanted[f];
    }
  }
  if (!sameConfig(now.settings, wanted.settings)) {
    const a = now.settings as Record<string, unknown>;
    const b = wanted.settings as Record<string, unknown>;
    const keys = Object.keys({ ...a, ...b }).filter((k) => !sameConfig(a[k], b[k]));
    fields.push(...keys.sort().map((k) => `settings.${k}`));
    patch.settings = wanted.settings;
  }
  if (now.enabled !== wanted.enabled) fields.push('enabled');
  return { fields, patch };
}

/** Paths of the transport's secrets given as the placeholder (`env.TOKEN`, `headers.Authorization`). */
function placeholders(transport: ServerEntry['transport']): string[] {
  const maps: Array<[string, Record<string, unknown> | undefined]> =
    transport.type === 'stdio'
      ? [['env', transport.env]]
      : [
          ['headers', transport.headers],
          ['query', transport.query],
        ];
  return maps.flatMap(([where, map]) =>
    Object.entries(map ?? {})
      .filter(([, v]) => v === REDACTED)
      .map(([k]) => `${where}.${k}`),
  );
}

function toolsetBody(t: ToolsetEntry) {
  return { ...(t.description !== undefined && { description: t.description }), tools: t.tools };
}
