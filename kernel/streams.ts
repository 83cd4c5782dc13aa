/** Stream names are `<category>-<id>`; the category is the part before the first `-`. */
export function streamName(category: string, id: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(category)) throw new Error(`invalid stream category: ${category}`);
  return `${category}-${id}`;
}

export function categoryOf(stream: string): string {
  const i = stream.indexOf('-');
  return i === -1 ? stream : stream.slice(0, i);
}

export function idOf(stream: string): string {
  const i = stream.indexOf('-');
  return i === -1 ? '' : stream.slice(i + 1);
}
