import { randomUUID } from 'node:crypto';

export interface Item {
  id: string;
  name: string;
  quantity: number;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

export type NewItem = Pick<Item, 'name' | 'quantity'> & { tags?: string[] };
export type ItemChanges = Partial<NewItem>;

/**
 * Where items live. The app only knows this interface: swap the in-memory store for one backed by a
 * database without touching the routes, and hand tests a fresh store each.
 */
export interface ItemStore {
  list(options: { limit: number; offset: number }): Promise<{ items: Item[]; total: number }>;
  get(id: string): Promise<Item | undefined>;
  create(item: NewItem): Promise<Item>;
  update(id: string, changes: ItemChanges): Promise<Item | undefined>;
  delete(id: string): Promise<boolean>;
}

export class MemoryItemStore implements ItemStore {
  readonly #items = new Map<string, Item>();

  async list({ limit, offset }: { limit: number; offset: number }) {
    const all = [...this.#items.values()];
    return { items: all.slice(offset, offset + limit), total: all.length };
  }

  async get(id: string) {
    return this.#items.get(id);
  }

  async create({ name, quantity, tags = [] }: NewItem) {
    const now = new Date().toISOString();
    const item: Item = { id: randomUUID(), name, quantity, tags, createdAt: now, updatedAt: now };
    this.#items.set(item.id, item);
    return item;
  }

  async update(id: string, changes: ItemChanges) {
    const current = this.#items.get(id);
    if (!current) return undefined;
    const next: Item = { ...current, ...changes, id, updatedAt: new Date().toISOString() };
    this.#items.set(id, next);
    return next;
  }

  async delete(id: string) {
    return this.#items.delete(id);
  }
}
