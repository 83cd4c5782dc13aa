import { useCallback, useState } from 'preact/hooks';
import type { Progress } from '../../api.ts';
import { holds, useSession } from '../../context.ts';
import { useAction } from '../../hooks.ts';
import { Card, ErrorBox, Field } from '../../ui.tsx';
import { Generation, PreviewResult } from './generation.tsx';
import type {
  GenerateBody,
  GeneratedProject,
  ProjectPreview,
  TemplateDetail,
  TemplateVariable,
} from './types.ts';
import { constraintsOf } from './types.ts';

type Values = Record<string, string | boolean>;

const initialValues = (vars: TemplateVariable[]): Values =>
  Object.fromEntries(
    vars.map((v) => [v.name, v.type === 'boolean' ? v.default === true : String(v.default ?? '')]),
  );

/**
 * The variables as the API takes them: numbers as numbers; an empty field without a default left
 * out (the API names every required one missing), an emptied one with a default sent as ''.
 */
function variablesOf(vars: TemplateVariable[], values: Values): GenerateBody['variables'] {
  const out: GenerateBody['variables'] = {};
  for (const v of vars) {
    const value = values[v.name];
    if (v.type === 'boolean') {
      out[v.name] = value === true;
      continue;
    }
    const text = String(value ?? '');
    if (text === '' && (v.default === undefined || v.type !== 'string' || v.enum)) continue;
    out[v.name] = v.type === 'string' ? text : Number(text);
  }
  return out;
}

/** POST /projects (and /projects/preview) with the template's declared variables. */
export function Generate(props: { template: TemplateDetail }) {
  const { api, me } = useSession();
  const t = props.template;
  const [values, setValues] = useState<Values>(() => initialValues(t.variables));
  const [destination, setDestination] = useState(`projects/${t.name}`);
  const [overwrite, setOverwrite] = useState(false);
  const body = (): GenerateBody => ({
    template: t.name,
    destination,
    variables: variablesOf(t.variables, values),
    ...(overwrite && { overwrite: true }),
  });
  const preview = useAction(
    useCallback((b: GenerateBody) => api.send<ProjectPreview>('POST', '/projects/preview', b), [api]),
  );
  const [step, setStep] = useState<Progress>();
  const generate = useAction(
    useCallback(
      (b: GenerateBody) => {
        setStep(undefined);
        return api.progress<GeneratedProject>('/projects', b, setStep);
      },
      [api],
    ),
  );
  if (!holds(me, 'mcp:write')) {
    return (
      <Card title="Generate a project" class="wide">
        <p class="muted">Generating a project needs the mcp:write permission.</p>
      </Card>
    );
  }
  const submit = (e: Event) => {
    e.preventDefault();
    const replacing = `Replace what is in ${destination}? Overwrite deletes the files there first.`;
    if (overwrite && !confirm(replacing)) return;
    void generate.start(body());
  };
  const busy = generate.pending || preview.pending;
  return (
    <Card title="Generate a project" class="wide">
      <form onSubmit={submit}>
        <div class="tpl-fields">
          <Field label="Destination" hint="A directory relative to the gateway's workspace root">
            {(id) => (
              <input
                id={id}
                required
                value={destination}
                onInput={(e) => setDestination(e.currentTarget.value)}
              />
            )}
          </Field>
          {t.variables.map((v) => (
            <VariableField
              key={v.name}
              variable={v}
              value={values[v.name] ?? ''}
              onChange={(value) => setValues((vs) => ({ ...vs, [v.name]: value }))}
            />
          ))}
        </div>
        <label class="tpl-check">
          <input
            type="checkbox"
            checked={overwrite}
            onChange={(e) => setOverwrite(e.currentTarget.checked)}
          />
          Overwrite a destination that is not empty
        </label>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {generate.pending ? 'Generating…' : 'Generate'}
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => void preview.start(body())}>
            {preview.pending ? 'Previewing…' : 'Preview files'}
          </button>
        </div>
      </form>
      <ErrorBox error={preview.error ?? generate.error} />
      {generate.pending && (
        <div role="status" class="notice">
          <label>
            {step?.message ?? 'Generating: the gateway renders the template and writes the files…'}{' '}
            <progress value={step?.progress} max={step?.total ?? 1} />
          </label>
        </div>
      )}
      {generate.result ? (
        <Generation project={generate.result} />
      ) : (
        preview.result && <PreviewResult preview={preview.result} />
      )}
    </Card>
  );
}

function VariableField(props: {
  variable: TemplateVariable;
  value: string | boolean;
  onChange: (value: string | boolean) => void;
}) {
  const v = props.variable;
  const required = v.required === true && v.default === undefined;
  const hint = [v.description, constraintsOf(v)].filter(Boolean).join(' — ');
  const label = `${v.name}${required ? ' (required)' : ''}`;
  if (v.type === 'boolean') {
    return (
      <Field label={label} hint={hint}>
        {(id) => (
          <input
            id={id}
            type="checkbox"
            checked={props.value === true}
            onChange={(e) => props.onChange(e.currentTarget.checked)}
          />
        )}
      </Field>
    );
  }
  const text = String(props.value);
  const onInput = (e: Event) => props.onChange((e.currentTarget as HTMLInputElement).value);
  if (v.enum) {
    return (
      <Field label={label} hint={hint}>
        {(id) => (
          <select id={id} value={text} required={required} onChange={onInput}>
            {!required && <option value="">(default)</option>}
            {v.enum!.map((o) => (
              <option key={String(o)} value={String(o)}>
                {String(o)}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }
  if (v.type === 'number' || v.type === 'integer') {
    return (
      <Field label={label} hint={hint}>
        {(id) => (
          <input
            id={id}
            type="number"
            required={required}
            value={text}
            min={v.minimum}
            max={v.maximum}
            step={v.type === 'integer' ? 1 : 'any'}
            onInput={onInput}
          />
        )}
      </Field>
    );
  }
  return (
    <Field label={label} hint={hint}>
      {(id) =>
        v.secret ? (
          <input
            id={id}
            type="password"
            autocomplete="off"
            required={required}
            value={text}
            onInput={onInput}
          />
        ) : (
          <input id={id} type="text" required={required} value={text} onInput={onInput} />
        )
      }
    </Field>
  );
}
