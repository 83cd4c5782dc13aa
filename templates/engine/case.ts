/**
 * Case filters for names in generated code and paths: `{{ name | pascalCase }}` turns "my-server"
 * into "MyServer". Words split at any non-alphanumeric and at lower→upper and acronym boundaries,
 * so "HTTPServer2Go" is http, server2, go.
 */
export function words(input: unknown): string[] {
  return String(input)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

const capitalize = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

export function camelCase(input: unknown): string {
  return words(input)
    .map((w, i) => (i === 0 ? w : capitalize(w)))
    .join('');
}

export function pascalCase(input: unknown): string {
  return words(input).map(capitalize).join('');
}

export function kebabCase(input: unknown): string {
  return words(input).join('-');
}

export function snakeCase(input: unknown): string {
  return words(input).join('_');
}

export function constantCase(input: unknown): string {
  return words(input).join('_').toUpperCase();
}
