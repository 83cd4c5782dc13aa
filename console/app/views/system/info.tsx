import { ApiError } from '../../api.ts';
import { useResource } from '../../hooks.ts';
import { Card, Loaded, Table } from '../../ui.tsx';
import { REFRESH_MS } from './refresh.ts';

type ConfigValue = string | number | boolean | null;

interface SystemView {
  version: string;
  mode: string;
  roles: string[];
  config: Record<string, ConfigValue>;
}

const SECRET_KEY = /secret|password|passwd|token|pepper|private|credential/i;

/**
 * A configuration value as text. The server redacts secrets ("[redacted]"); the console also
 * hides a string under a secret-sounding key and the password of a URL, should one slip through.
 */
export function shown(key: string, value: ConfigValue): string {
  if (value === null) return '—';
  if (typeof value !== 'string') return String(value);
  if (value === '[redacted]') return value;
  if (SECRET_KEY.test(key) && value !== '') return '[hidden]';
  return value.replace(/\/\/([^/@\s:]*):[^/@\s]*@/g, '//$1:[hidden]@');
}

/** GET /system: version, mode, roles of this process and its configuration (secrets redacted). */
export function SystemInfo() {
  const system = useResource<SystemView>('/system', REFRESH_MS);
  const missing =
    system.error instanceof ApiError && (system.error.status === 404 || system.error.status === 503);
  return (
    <Card title="Version and configuration" class="wide">
      {missing ? (
        <p class="notice">This gateway does not report its version and configuration (GET /api/v1/system).</p>
      ) : (
        <Loaded resource={system}>
          {(s) => (
            <>
              <dl class="stats">
                <div>
                  <dt>Version</dt>
                  <dd>{s.version}</dd>
                </div>
                <div>
                  <dt>Mode</dt>
                  <dd>{s.mode}</dd>
                </div>
                <div>
                  <dt>Roles of this process</dt>
                  <dd>{s.roles.length > 0 ? s.roles.join(', ') : '—'}</dd>
                </div>
              </dl>
              <div class="sys-config">
                <Table
                  caption="Configuration (secrets redacted)"
                  head={['Setting', 'Value']}
                  empty="No setting reported."
                >
                  {Object.keys(s.config)
                    .sort()
                    .map((key) => (
                      <tr key={key}>
                        <th scope="row">
                          <code>{key}</code>
                        </th>
                        <td>
                          <code>{shown(key, s.config[key] ?? null)}</code>
                        </td>
                      </tr>
                    ))}
                </Table>
              </div>
            </>
          )}
        </Loaded>
      )}
    </Card>
  );
}
