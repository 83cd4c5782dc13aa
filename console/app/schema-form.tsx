import { useId } from 'preact/hooks';

/** The part of JSON Schema the console draws forms from (OpenAPI request bodies, tool input schemas). */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  format?: string;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
}

type Value = unknown;
type Obj = Record<string, Value>;

const typeOf = (s: JsonSchema): string | undefined =>
  Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;

/** A oneOf of objects told apart by one property with a single allowed value (`transport.type`). */
function discriminator(variants: JsonSchema[]): string | undefined {
  const first = variants[0]?.properties ?? {};
  return Object.keys(first).find((key) =>
    variants.every((v) => {
      const p = v.properties?.[key];
      return p !== undefined && (p.const !== undefined || p.enum?.length === 1);
    }),
  );
}
const tagOf = (variant: JsonSchema, key: string) => {
  const p = variant.properties![key]!;
  return String(p.const ?? p.enum![0]);
};

/** An anyOf of objects told apart by which property they require (`{project}`, `{npm, version}`). */
function requiredKeys(variants: JsonSchema[]): string[] | undefined {
  const keys = variants.map((v) => v.required?.[0]);
  if (keys.some((k) => k === undefined) || new Set(keys).size !== keys.length) return undefined;
  return keys as string[];
}

const isScalarType = (t: string | undefined) =>
  t === 'string' || t === 'number' || t === 'integer' || t === 'boolean';

/** `KEY=value` lines for a map of strings; `KEY=secretRef:<ref>` for a reference to a secret. */
function mapToText(value: Value): string {
  if (!value || typeof value !== 'object') return '';
  return Object.entries(value as Obj)
    .map(([k, v]) =>
      typeof v === 'object' && v && 'secretRef' in v ? `${k}=secretRef:${(v as Obj).secretRef}` : `${k}=${v}`,
    )
    .join('\n');
}
function textToMap(text: string): Obj | undefined {
  const out: Obj = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const k = line.slice(0, at).trim();
    const v = line.slice(at + 1);
    out[k] = v.startsWith('secretRef:') ? { secretRef: v.slice('secretRef:'.length) } : v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

interface FieldProps {
  name: string;
  schema: JsonSchema;
  value: Value;
  required: boolean;
  onChange: (value: Value) => void;
}

function ScalarField(props: FieldProps & { id: string }) {
  const { schema, value, onChange, id, required } = props;
  const t = typeOf(schema);
  if (schema.enum) {
    return (
      <select
        id={id}
        required={required}
        value={value === undefined ? '' : String(value)}
        onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
      >
        {!required && <option value="">—</option>}
        {schema.enum.map((v) => (
          <option key={String(v)} value={String(v)}>
            {String(v)}
          </option>
        ))}
      </select>
    );
  }
  if (t === 'boolean') {
    return (
      <input
        id={id}
        type="checkbox"
        checked={value === undefined ? schema.default === true : Boolean(value)}
        onChange={(e) => onChange(e.currentTarget.checked)}
      />
    );
  }
  if (t === 'number' || t === 'integer') {
    return (
      <input
        id={id}
        type="number"
        required={required}
        step={t === 'integer' ? 1 : 'any'}
        min={schema.minimum}
        max={schema.maximum}
        value={value === undefined ? '' : String(value)}
        onInput={(e) => onChange(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
      />
    );
  }
  const text = {
    id,
    required,
    autoComplete: 'off',
    value: value === undefined ? '' : String(value),
    onInput: (e: { currentTarget: HTMLInputElement }) =>
      onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value),
  };
  if (schema.writeOnly === true || schema.format === 'password') return <input type="password" {...text} />;
  return schema.format === 'uri' ? <input type="url" {...text} /> : <input type="text" {...text} />;
}

function Labelled(props: FieldProps & { hint?: string; children: (id: string) => preact.JSX.Element }) {
  const id = useId();
  const { schema, name, required } = props;
  return (
    <div class="field">
      <label for={id}>
        {schema.title ?? name}
        {required && <span aria-hidden="true"> *</span>}
        {required && <span class="sr-only"> (required)</span>}
      </label>
      {props.children(id)}
      {(schema.description || props.hint) && (
        <small class="muted">{[schema.description, props.hint].filter(Boolean).join(' · ')}</small>
      )}
    </div>
  );
}

function VariantSelect(props: {
  name: string;
  value: string;
  options: string[];
  onChange: (v: string) => void;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.name}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

function VariantField(props: FieldProps & { variants: JsonSchema[] }) {
  const { variants, value, onChange, name } = props;
  const obj = (value && typeof value === 'object' ? value : {}) as Obj;
  const key = discriminator(variants);
  if (key) {
    const current = variants.find((v) => tagOf(v, key) === obj[key]) ?? variants[0]!;
    const rest = { ...current, properties: { ...current.properties } };
    delete rest.properties[key];
    return (
      <fieldset>
        <legend>{props.schema.title ?? name}</legend>
        <VariantSelect
          name={key}
          value={tagOf(current, key)}
          options={variants.map((v) => tagOf(v, key))}
          onChange={(tag) => onChange({ [key]: tag })}
        />
        <ObjectFields
          schema={rest}
          value={obj}
          onChange={(v) => onChange({ ...(v as Obj), [key]: tagOf(current, key) })}
        />
      </fieldset>
    );
  }
  const keys = requiredKeys(variants);
  if (!keys) return <JsonField {...props} />;
  const index = Math.max(
    0,
    keys.findIndex((k) => k in obj),
  );
  return (
    <fieldset>
      <legend>{props.schema.title ?? name}</legend>
      <VariantSelect
        name={`${name}: kind`}
        value={keys[index]!}
        options={keys}
        onChange={(k) => onChange({ [k]: undefined })}
      />
      <ObjectFields schema={variants[index]!} value={obj} onChange={(v) => onChange(v)} />
    </fieldset>
  );
}

function JsonField(props: FieldProps) {
  return (
    <Labelled {...props} hint="JSON">
      {(id) => (
        <textarea
          id={id}
          defaultValue={props.value === undefined ? '' : JSON.stringify(props.value, null, 2)}
          onChange={(e) => {
            const text = e.currentTarget.value.trim();
            try {
              props.onChange(text === '' ? undefined : JSON.parse(text));
              e.currentTarget.setCustomValidity('');
            } catch {
              e.currentTarget.setCustomValidity('not valid JSON');
            }
          }}
        />
      )}
    </Labelled>
  );
}

/** One property of an object: the control its schema calls for. */
function SchemaField(props: FieldProps) {
  const { schema, value, onChange } = props;
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants?.every((v) => typeOf(v) === 'object')) return <VariantField {...props} variants={variants} />;
  const t = typeOf(schema) ?? (variants ? undefined : 'string');
  if (isScalarType(t) || schema.enum)
    return <Labelled {...props}>{(id) => <ScalarField {...props} id={id} />}</Labelled>;
  if (t === 'array' && schema.items && isScalarType(typeOf(schema.items))) {
    const numeric = typeOf(schema.items) !== 'string';
    return (
      <Labelled {...props} hint="one per line">
        {(id) => (
          <textarea
            id={id}
            value={Array.isArray(value) ? value.join('\n') : ''}
            onInput={(e) => {
              const items = e.currentTarget.value.split('\n').filter((l) => l.trim() !== '');
              onChange(items.length === 0 ? undefined : numeric ? items.map(Number) : items);
            }}
          />
        )}
      </Labelled>
    );
  }
  if (t === 'object' && schema.properties) {
    return (
      <details open={props.required}>
        <summary>{schema.title ?? props.name}</summary>
        <ObjectFields schema={schema} value={(value ?? {}) as Obj} onChange={onChange} />
      </details>
    );
  }
  if (t === 'object' && typeof schema.additionalProperties === 'object') {
    return (
      <Labelled {...props} hint="NAME=value per line; NAME=secretRef:<ref> for a secret reference">
        {(id) => (
          <textarea
            id={id}
            value={mapToText(value)}
            onInput={(e) => onChange(textToMap(e.currentTarget.value))}
          />
        )}
      </Labelled>
    );
  }
  return <JsonField {...props} />;
}

/** Every property of an object schema, in order; empty optional values are left out. */
export function ObjectFields(props: { schema: JsonSchema; value: Obj; onChange: (value: Obj) => void }) {
  const required = new Set(props.schema.required ?? []);
  return (
    <>
      {Object.entries(props.schema.properties ?? {}).map(([name, schema]) => (
        <SchemaField
          key={name}
          name={name}
          schema={schema}
          required={required.has(name)}
          value={props.value[name]}
          onChange={(v) => {
            const next = { ...props.value };
            if (v === undefined) delete next[name];
            else next[name] = v;
            props.onChange(next);
          }}
        />
      ))}
    </>
  );
}
