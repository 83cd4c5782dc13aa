import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { applyPlan } from './config/apply.ts';
import { readCurrentConfiguration } from './config/current.ts';
import { configJsonSchema } from './config/document.ts';
import { formatPlan, planConfiguration } from './config/plan.ts';
import { configToYaml, parseConfigYaml } from './config/yaml.ts';
import { CliError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { type CliIo, type Exit, run } from './io.ts';

/** `switchyard export`: the caller's configuration as one YAML document (or the document's JSON Schema). */
export async function configExport(
  opts: GatewayOptions & { output?: string; schema?: boolean },
  io: CliIo,
): Promise<Exit> {
  const text = opts.schema
    ? `${JSON.stringify(configJsonSchema(), null, 2)}\n`
    : configToYaml((await readCurrentConfiguration(await gatewayOf(opts))).document);
  if (opts.output) {
    await writeFile(opts.output, text, { mode: 0o644 });
    io.stderr.write(`wrote ${opts.output}\n`);
  } else io.stdout.write(text);
  return 0;
}

export interface ApplyFlags {
  file: string;
  prune?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

/** Asks on the terminal; anything but y/yes is no. */
async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * `switchyard apply -f <file>`: the plan (what would be created, changed, removed), then — with
 * `--yes`, or confirmed on a terminal — the plan applied as the REST calls any client would make.
 * `--dry-run` stops at the plan; without `--prune` nothing is removed.
 */
export async function configApply(
  opts: GatewayOptions & ApplyFlags,
  io: CliIo,
  confirm: ((question: string) => Promise<boolean>) | undefined = process.stdin.isTTY
    ? askOnTerminal
    : undefined,
): Promise<Exit> {
  let text: string;
  try {
    text = opts.file === '-' ? await readStdin() : await readFile(opts.file, 'utf8');
  } catch (e) {
    throw new CliError(
      `cannot read ${opts.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const desired = parseConfigYaml(text, opts.file);
  const gateway = await gatewayOf(opts);
  const plan = planConfiguration(await readCurrentConfiguration(gateway), desired, {
    prune: opts.prune === true,
  });
  io.stdout.write(formatPlan(plan));
  if (plan.problems.length > 0) {
    throw new CliError('the plan cannot be applied: fix the problems marked "!" in the file');
  }
  if (plan.steps.length === 0 || opts.dryRun) return 0;
  if (!opts.yes) {
    if (!confirm) throw new CliError('not applied: confirm with --yes (no terminal to ask on)');
    if (!(await confirm('Apply these changes? [y/N] '))) {
      io.stdout.write('Not applied.\n');
      return 0;
    }
  }
  const done = await applyPlan(gateway, plan, (s) =>
    io.stderr.write(
      `${{ create: 'created', change: 'changed', remove: 'removed' }[s.op]} ${s.kind} ${s.name}\n`,
    ),
  );
  io.stdout.write(`Applied: ${done.length} step${done.length === 1 ? '' : 's'}.\n`);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `switchyard export`. */
export function exportCommand(): Command {
  return withGatewayOptions(new Command('export'))
    .description(
      "the caller's configuration (servers, template sources, toolsets, tenants, grants, policies, rate limits) as YAML; secrets never in clear",
    )
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--schema', "print the document's JSON Schema instead (docs/config.schema.json)")
    .action((opts) => run((io) => configExport(opts, io)));
}

/** `switchyard apply`. */
export function applyCommand(): Command {
  return withGatewayOptions(new Command('apply'))
    .description('make the gateway match a configuration file: shows the plan, applies it when confirmed')
    .requiredOption('-f, --file <file>', 'the YAML document (as `switchyard export` writes it; - for stdin)')
    .option(
      '--prune',
      'also remove what the file does not name (servers, sources, toolsets, grants, policies, limits)',
    )
    .option('--dry-run', 'show the plan only')
    .option('-y, --yes', 'apply without asking')
    .action((opts) => run((io) => configApply(opts, io)));
}
