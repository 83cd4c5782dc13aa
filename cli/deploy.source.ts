import { UsageError } from './errors.ts';

/** A deployment's source as POST /api/v1/deployments takes it. */
export type DeploySource =
  | { project: string }
  | { template: string; version?: string; variables: Record<string, string> }
  | { directory: string }
  | { npm: string; version: string };

const SYNTAX =
  'project:<uuid>, template:<name>[@<version>], dir:<path in the gateway workspace> or npm:<package>@<version>';

/**
 * `switchyard deploy <source>`: `project:<uuid>`, `template:<name>[@<version>]` (with `--var`
 * pairs), `dir:<workspace-relative path>` or `npm:<package>@<version>` (scoped packages too:
 * `npm:@scope/name@1.2.3`). Only the syntax is checked here; the gateway checks the values (an
 * exact version, a path inside its workspace) and says what is wrong with them.
 */
export function parseDeploySource(source: string, variables: Record<string, string> = {}): DeploySource {
  const colon = source.indexOf(':');
  const kind = colon === -1 ? '' : source.slice(0, colon);
  const rest = colon === -1 ? '' : source.slice(colon + 1);
  if (!rest) throw new UsageError(`source ${JSON.stringify(source)}: expected ${SYNTAX}`);
  const withVars = Object.keys(variables).length > 0;
  if (withVars && kind !== 'template') throw new UsageError('--var is for template: sources');
  switch (kind) {
    case 'project':
      return { project: rest };
    case 'template': {
      const at = rest.indexOf('@');
      const name = at === -1 ? rest : rest.slice(0, at);
      const version = at === -1 ? undefined : rest.slice(at + 1);
      if (!name || version === '') {
        throw new UsageError(`source ${JSON.stringify(source)}: expected template:<name>[@<version>]`);
      }
      return { template: name, ...(version !== undefined && { version }), variables };
    }
    case 'dir':
      return { directory: rest.replace(/\/+$/, '') };
    case 'npm': {
      // The version follows the last "@" that does not start the name (a scope's "@" does).
      const at = rest.lastIndexOf('@');
      if (at <= 0 || at === rest.length - 1) {
        throw new UsageError(
          `source ${JSON.stringify(source)}: expected npm:<package>@<exact version>, e.g. npm:@scope/server@1.2.3`,
        );
      }
      return { npm: rest.slice(0, at), version: rest.slice(at + 1) };
    }
    default:
      throw new UsageError(`source ${JSON.stringify(source)}: expected ${SYNTAX}`);
  }
}

export interface DeployFlags {
  server: string;
  replicas?: string | undefined;
  expectTool?: string[] | undefined;
  smoke?: string | undefined;
  smokeArgs?: string | undefined;
  /** Wait behind a deployment of the same server under way instead of being refused. */
  queue?: boolean | undefined;
}

/** The body of POST /api/v1/deployments from the command line. */
export function deployRequest(source: DeploySource, flags: DeployFlags): Record<string, unknown> {
  if (flags.smokeArgs !== undefined && flags.smoke === undefined) {
    throw new UsageError('--smoke-args needs --smoke <tool>');
  }
  let smokeArgs: unknown = {};
  if (flags.smokeArgs !== undefined) {
    try {
      smokeArgs = JSON.parse(flags.smokeArgs);
    } catch {
      throw new UsageError(`--smoke-args ${JSON.stringify(flags.smokeArgs)}: not JSON`);
    }
    if (typeof smokeArgs !== 'object' || smokeArgs === null || Array.isArray(smokeArgs)) {
      throw new UsageError('--smoke-args must be a JSON object, e.g. \'{"a":1}\'');
    }
  }
  let replicas: number | undefined;
  if (flags.replicas !== undefined) {
    replicas = Number(flags.replicas);
    if (!/^\d+$/.test(flags.replicas.trim()) || replicas < 1) {
      throw new UsageError(`--replicas must be a positive integer, not ${JSON.stringify(flags.replicas)}`);
    }
  }
  const expectedTools = flags.expectTool ?? [];
  return {
    server: flags.server,
    source,
    ...(replicas !== undefined && { replicas }),
    ...(flags.queue && { queue: true }),
    ...((expectedTools.length > 0 || flags.smoke !== undefined) && {
      health: {
        expectedTools,
        ...(flags.smoke !== undefined && { smoke: { tool: flags.smoke, arguments: smokeArgs } }),
      },
    }),
  };
}
